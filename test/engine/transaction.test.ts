/**
 * Issue 9's cases on the simulated machine: a change is applied whole or not at all. A tampered
 * image is never loaded, across a reload, a cell failure and a daemon restart; a start or reload
 * that would fail before touching the machine stops nothing that runs; a reload whose steps
 * failed says so; a fixed description is retried at once; log lines say what happened.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ALL_ACTIVE, ALL_ACTIVE_HANDWRITTEN, HANDWRITTEN_UNITS, makeFixture, settle, states, untilUnit, pidOf, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';
import type { LogLine } from '../../src/engine/manager-api.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

/** The cRTOS example brought up: the short form, or with `handwritten` the one of .cell files. */
async function running(handwritten = false): Promise<{ f: Fixture; m: Manager; log: LogLine[] }> {
  const f = await makeFixture(handwritten ? { units: HANDWRITTEN_UNITS } : {});
  const m = f.manager();
  const log: LogLine[] = [];
  m.on('log', (l: LogLine) => log.push(l));
  expect((await m.start()).ok).toBe(true);
  await settle(m);
  expect(states(m)).toEqual(handwritten ? ALL_ACTIVE_HANDWRITTEN : ALL_ACTIVE);
  await f.machine.clearLog();
  return { f, m, log };
}

describe('a tampered image (one byte flipped on disk)', () => {
  let f: Fixture;
  let m: Manager;
  let image: string;
  let good: Buffer;
  let tamperedSha: string;

  beforeAll(async () => {
    ({ f, m } = await running());
    image = join(f.machine.dir, 'opt/crtos/nuttx.bin');
    good = readFileSync(image);
    const bad = Buffer.from(good);
    bad[100] = bad[100]! ^ 0x01;
    writeFileSync(image, bad);
    tamperedSha = sha256(bad);
  });
  afterAll(async () => f.cleanup());

  test('a plain reload is refused at the sha256 pin, and the Image fails with the digest it found', async () => {
    const outcome = await m.reload();
    expect(outcome.ok).toBe(false);
    const text = f.readUnit('nuttx.yaml');
    expect(outcome.problems).toEqual([
      expect.objectContaining({ code: 'UNIT_IMAGE_MISMATCH', unit: 'nuttx.image', file: join(f.unitsDir, 'nuttx.yaml'), line: lineOf(text, 'sha256:'), column: 9 }),
    ]);
    expect(outcome.problems[0]!.message).toContain(tamperedSha);
    await m.trigger('look at the machine');
    const img = m.getUnit('nuttx.image')!;
    expect([img.activeState, img.subState, img.lastError?.code]).toEqual(['failed', 'mismatch', 'ENGINE_IMAGE_MISMATCH']);
    expect(img.lastError!.message).toContain(tamperedSha);
    expect(m.getUnit('nuttx.cell')!.activeState).toBe('active');
    expect(await f.ops()).toEqual([]);
  });

  test('a restart asked for by hand is refused while staging: the running cell and its loader are not touched', async () => {
    const pid = pidOf(m.getUnit('hello.loader'));
    m.enqueue('nuttx.cell', 'reload');
    await m.idle();
    const cell = m.getUnit('nuttx.cell')!;
    expect(cell.lastError).toMatchObject({ code: 'ENGINE_IMAGE_MISMATCH' });
    expect(cell.activeState).toBe('active');
    expect(pidOf(m.getUnit('hello.loader'))).toBe(pid);
    expect(await f.ops()).toEqual([]);
  });

  test('a cell that fails is not reloaded with it (onFailure restart): nothing is loaded', async () => {
    await f.machine.failCell('nuttx');
    await untilUnit(m, 'nuttx.cell', (u) => u.lastError?.code === 'ENGINE_IMAGE_MISMATCH' && u.activeState !== 'active');
    await m.idle();
    const ops = await f.ops();
    expect(ops.filter((o) => /jailhouse cell (load|create|start)/.test(o))).toEqual([]);
  });

  test('a daemon restarted on it leaves the machine as it finds it and shows the Image failed', async () => {
    m.close();
    await f.machine.clearLog();
    const again = f.manager();
    const outcome = await again.start();
    await again.idle();
    expect(outcome.ok).toBe(false);
    expect(outcome.problems.map((p) => p.code)).toEqual(['UNIT_IMAGE_MISMATCH']);
    const img = again.getUnit('nuttx.image')!;
    expect([img.activeState, img.lastError?.code]).toEqual(['failed', 'ENGINE_IMAGE_MISMATCH']);
    expect(img.lastError!.message).toContain(tamperedSha);
    expect(again.getUnit('jailhouse.hypervisor')!.activeState).toBe('active');
    expect(await f.ops()).toEqual([]);

    // The file put back: the set is accepted, and the failed cell comes back by its policy.
    writeFileSync(image, good);
    expect((await again.reload()).ok).toBe(true);
    await untilUnit(again, 'nuttx.cell', (u) => u.activeState === 'active');
    await settle(again);
    expect(states(again)).toMatchObject({ 'nuttx.image': 'active/success', 'nuttx.cell': 'active/success' });
    m = again;
  });
});

describe('a reload whose steps fail', () => {
  let f: Fixture;
  let m: Manager;
  beforeAll(async () => ({ f, m } = await running()));
  afterAll(async () => f.cleanup());

  test('is not ok, and names the unit and the operation that failed', async () => {
    await f.machine.addFault({ op: 'jailhouse cell load', errno: 'EINVAL' });
    const image = join(f.machine.dir, 'opt/crtos/nuttx.bin');
    const bytes = Buffer.concat([readFileSync(image), Buffer.from('v2')]);
    writeFileSync(image, bytes);
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace(/sha256: [0-9a-f]{64}/, `sha256: ${sha256(bytes)}`));
    const outcome = await m.reload();
    expect(outcome.ok).toBe(false);
    expect(outcome.steps).toContainEqual({ unit: 'nuttx.cell', action: 'reload', reason: 'image nuttx.image changed' });
    expect(outcome.problems).toContainEqual(expect.objectContaining({ code: 'ENGINE_START_FAILED', unit: 'nuttx.cell', message: expect.stringContaining('jailhouse cell load nuttx failed') }));
  });
});

describe('a description that fixes a failed unit', () => {
  let f: Fixture;
  let m: Manager;
  beforeAll(async () => ({ f, m } = await running()));
  afterAll(async () => f.cleanup());

  test('is tried at once, not after the back-off of the last failure', async () => {
    const slow = 'restart: on-failure\nrestartSec: 1h\nrestartMaxSec: 1h';
    f.writeUnit('hello.yaml', f.readUnit('hello.yaml').replace('restart: on-failure', slow).replace('/opt/crtos/apps/hello]', '/opt/crtos/apps/missing]'));
    await m.reload();
    await untilUnit(m, 'hello.loader', (u) => u.subState === 'auto-restart');
    f.writeUnit('hello.yaml', f.readUnit('hello.yaml').replace('/opt/crtos/apps/missing]', '/opt/crtos/apps/hello]'));
    const outcome = await m.reload();
    expect(outcome.ok).toBe(true);
    await untilUnit(m, 'hello.loader', (u) => u.activeState === 'active' && u.subState === 'running');
    expect(m.settled()).toBe(true);
  });
});

describe('log lines in the operator\'s words', () => {
  let f: Fixture;
  let m: Manager;
  let log: LogLine[];
  beforeAll(async () => ({ f, m, log } = await running()));
  afterAll(async () => f.cleanup());

  test('a new image is named on the cell it reloads', async () => {
    const image = join(f.machine.dir, 'opt/crtos/nuttx.bin');
    const bytes = Buffer.concat([readFileSync(image), Buffer.from('v2')]);
    writeFileSync(image, bytes);
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace(/sha256: [0-9a-f]{64}/, `sha256: ${sha256(bytes)}`));
    const outcome = await m.reload();
    expect(outcome.steps).toContainEqual({ unit: 'nuttx.cell', action: 'reload', reason: 'image nuttx.image changed' });
    expect(log).toContainEqual(expect.objectContaining({ unit: 'nuttx.cell', message: 'reload: image nuttx.image changed' }));
  });

  test('a cell that fails says what Jailhouse reports, and its restart says why', async () => {
    await settle(m);
    log.length = 0;
    const restarting = untilUnit(m, 'nuttx.cell', (u) => u.subState === 'auto-restart');
    await f.machine.failCell('nuttx');
    await restarting;
    await untilUnit(m, 'nuttx.cell', (u) => u.activeState === 'active');
    const lines = log.filter((l) => l.unit === 'nuttx.cell').map((l) => l.message);
    expect(lines).toContain('Jailhouse reports the cell failed, failed CPUs: 3; onFailure: restart');
    expect(lines).toContain('reload: onFailure restart: cell failed');
    expect(lines.join('\n')).not.toMatch(/cell failed \(cell failed/);
  });
});

/** A new configuration of the nuttx cell that the codec accepts and the hypervisor refuses. */
interface RefusedConfiguration {
  what: string;
  handwritten: boolean;
  /** Makes the edit; returns the file `jailhouse cell create` is given. */
  edit(f: Fixture): string;
}

const REFUSED: RefusedConfiguration[] = [
  {
    what: 'a .cell file named by its path (the hand-written example)',
    handwritten: true,
    edit(f) {
      const etc = join(f.machine.dir, 'etc/jailhouse');
      writeFileSync(join(etc, 'nuttx-v2.cell'), readFileSync(join(etc, 'nuttx.cell')));
      f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace('config: /etc/jailhouse/nuttx.cell', 'config: /etc/jailhouse/nuttx-v2.cell'));
      return '/etc/jailhouse/nuttx-v2.cell';
    },
  },
  {
    what: 'the generated configuration (the short form: its communication region moved)',
    handwritten: false,
    edit(f) {
      const before = f.readUnit('nuttx.yaml');
      const after = before.replace('{ virtStart: 0x80000000, size: 4K', '{ virtStart: 0x80001000, size: 4K');
      expect(after).not.toBe(before);
      f.writeUnit('nuttx.yaml', after);
      return '/run/crtos/cells/nuttx.cell';
    },
  },
];

describe.each(REFUSED)('a configuration only the hypervisor can refuse: $what', (c) => {
  let f: Fixture;
  let m: Manager;
  beforeAll(async () => ({ f, m } = await running(c.handwritten)));
  afterAll(async () => f.cleanup());

  test('refused after the old cell was destroyed: the last good configuration is put back and both are reported', async () => {
    const file = c.edit(f);
    await f.machine.addFault({ op: 'jailhouse cell create', target: basename(file), errno: 'EINVAL' });
    const outcome = await m.reload();
    expect(outcome.ok).toBe(false);
    expect(outcome.steps).toContainEqual({ unit: 'nuttx.cell', action: 'recreate', reason: 'field config changed' });
    const refused = outcome.problems.find((p) => p.unit === 'nuttx.cell')!;
    expect(refused.message).toContain(`jailhouse cell create ${file} failed: `);
    expect(refused.message).toMatch(/Invalid argument.*; the last good configuration was put back and the cell runs it/);
    const cellOps = (await f.ops()).filter((o) => o.startsWith('jailhouse cell')).map((o) => o.replaceAll(f.machine.dir, ''));
    expect(cellOps).toEqual([
      'jailhouse cell destroy cell destroy --name nuttx',
      `jailhouse cell create cell create ${file} => EINVAL`,
      'jailhouse cell create cell create /run/crtos/cells/nuttx.last-good.cell',
      'jailhouse cell load cell load --name nuttx /opt/crtos/nuttx.bin --address 0x0',
      'jailhouse cell start cell start --name nuttx',
    ]);
    // The loader, stopped for the re-create, comes back on the cell that runs again.
    await untilUnit(m, 'hello.loader', (u) => u.activeState === 'active');
    // Settled includes the stand-in loader's own log line, which comes after crtosd reports it active.
    await settle(m);
    expect(states(m)).toEqual(c.handwritten ? ALL_ACTIVE_HANDWRITTEN : ALL_ACTIVE);
    expect(m.getUnit('nuttx.cell')!.lastError?.message).toContain('the last good configuration was put back');

    // Not tried again by itself: only a change of the description (or a start asked for) does.
    await f.machine.clearLog();
    await m.trigger('look again');
    expect(await f.ops()).toEqual([]);
  });
});
