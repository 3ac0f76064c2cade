/**
 * A Cell with its configuration inline, on the simulated machine: the encoded bytes are written
 * through the Host and `jailhouse cell create` is given that file; edits re-create the cell only
 * when a byte changes, a bad edit is refused whole, and a failed write fails the start cleanly.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_ACTIVE_HANDWRITTEN, HANDWRITTEN_UNITS, makeFixture, settle, states, untilUnit, pidOf, type Fixture } from '../../engine/harness.js';
import type { Manager } from '../../../src/engine/manager.js';

const INLINE = readFileSync(join(import.meta.dirname, '../../../units/crtos-inline/nuttx.yaml'), 'utf8');

/**
 * The fixture with units/crtos-inline/nuttx.yaml over units/crtos-handwritten's (readiness on the
 * machine's loopback endpoint): every region of the cell written inline, no links.
 */
async function inlineFixture(): Promise<Fixture> {
  const f = await makeFixture({ units: HANDWRITTEN_UNITS });
  const endpoint = f.machine.readinessEndpoint('nuttx')!;
  f.writeUnit('nuttx.yaml', INLINE.replace(/172\.16\.0\.2:42/g, `${endpoint.host}:${endpoint.port}`));
  return f;
}

/** The operand of each `jailhouse cell VERB` operation in the log (the file of a create, the cell of a destroy). */
const operands = (ops: string[], verb: string) => ops.filter((o) => o.startsWith(`jailhouse cell ${verb} `)).map((o) => o.split(' ').pop());

describe('a Cell with an inline configuration on the simulated machine', () => {
  let f: Fixture;
  let m: Manager;
  let written: string;

  beforeAll(async () => {
    f = await inlineFixture();
    m = f.manager();
    written = join(f.machine.dir, 'run/crtos/cells/nuttx.cell');
  });
  afterAll(async () => f.cleanup());

  test('comes up from the written file: the stand-in jailhouse accepted it, and it holds the .cell bytes it replaces', async () => {
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE_HANDWRITTEN);
    expect(operands(await f.ops(), 'create')).toEqual([written]);
    expect(readFileSync(written).equals(readFileSync(join(f.machine.dir, 'etc/jailhouse/nuttx.cell')))).toBe(true);
    expect(m.getUnit('nuttx.cell')!.details).toMatchObject({ kind: 'Cell', configPath: '/run/crtos/cells/nuttx.cell', cpus: [3] });
  });

  test('an edit that changes no byte of the configuration touches nothing', async () => {
    await f.machine.clearLog();
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace('  cpus: 3\n', '  cpus: [3]\n').replace('size: 508K, flags: [READ, ROOTSHARED]', 'size: 0x7f000, flags: [ROOTSHARED, READ]'));
    const outcome = await m.reload();
    expect(outcome).toMatchObject({ ok: true, steps: [] });
    expect(await f.ops()).toEqual([]);
  });

  test('a cell destroyed behind crtosd\'s back is created again from the file in place, which is not re-written', async () => {
    const inode = statSync(written).ino;
    const loaderPid = pidOf(m.getUnit('hello.loader'));
    expect((await f.machine.runInProcess('jailhouse', ['cell', 'destroy', 'nuttx'])).code).toBe(0);
    await f.machine.clearLog();
    await m.trigger('the cell is gone');
    // The loader exits with its cell and is restarted: wait for its new process before comparing.
    await untilUnit(m, 'hello.loader', (u) => u.activeState === 'active' && pidOf(u) !== loaderPid);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE_HANDWRITTEN);
    expect(operands(await f.ops(), 'create')).toEqual([written]);
    expect(statSync(written).ino).toBe(inode);
  });

  test('an edit of a CPU re-creates the cell from the re-written file', async () => {
    await f.machine.clearLog();
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace('  cpus: [3]\n', '  cpus: [2]\n'));
    const outcome = await m.reload();
    expect(outcome.ok).toBe(true);
    expect(outcome.steps.map((s) => `${s.action} ${s.unit}`).sort()).toEqual(['recreate nuttx.cell', 'restart hello.loader']);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE_HANDWRITTEN);
    const ops = (await f.ops()).filter((o) => /^jailhouse cell (destroy|create) /.test(o));
    expect(ops.map((o) => `${o.split(' ')[2]} ${o.split(' ').pop()}`)).toEqual(['destroy nuttx', `create ${written}`]);
    expect(m.getUnit('nuttx.cell')!.details).toMatchObject({ cpus: [2] });
    const cell = (await f.machine.state()).jailhouse.cells.find((c) => c.name === 'nuttx');
    expect(cell?.cpus).toEqual([2]);
    expect(readFileSync(written).equals(readFileSync(join(f.machine.dir, 'etc/jailhouse/nuttx.cell')))).toBe(false);
  });

  test('a bad edit (a broken value, a revision the system does not have) is refused whole and changes nothing', async () => {
    await f.machine.clearLog();
    const good = f.readUnit('nuttx.yaml');
    const before = readFileSync(written);
    for (const bad of [good.replace('  cpus: [2]\n', '  cpus: [two]\n'), good.replace('  name: nuttx\n  flags', '  name: nuttx\n  revision: 14\n  flags')]) {
      expect(bad).not.toBe(good);
      f.writeUnit('nuttx.yaml', bad);
      const outcome = await m.reload();
      expect(outcome.ok).toBe(false);
      expect(outcome.problems.find((p) => (p.severity ?? 'error') === 'error')).toMatchObject({ unit: 'nuttx.cell', file: expect.stringContaining('nuttx.yaml'), line: expect.any(Number) });
      expect(m.daemon().lastLoadErrors.length).toBeGreaterThan(0);
    }
    await m.trigger('after a bad edit');
    expect(await f.ops()).toEqual([]);
    expect(states(m)).toEqual(ALL_ACTIVE_HANDWRITTEN);
    expect(readFileSync(written).equals(before)).toBe(true);
  });
});

describe('a Cell whose inline configuration cannot be written', () => {
  let f: Fixture;
  afterAll(async () => f.cleanup());

  test('fails its start with the write error, runs no jailhouse command for it and leaves nothing behind', async () => {
    f = await inlineFixture();
    // A file where the directory of the written configuration belongs: the write fails with ENOTDIR.
    mkdirSync(join(f.machine.dir, 'run/crtos'), { recursive: true });
    writeFileSync(join(f.machine.dir, 'run/crtos/cells'), 'not a directory');
    const m = f.manager();
    await m.start();
    const cell = await untilUnit(m, 'nuttx.cell', (u) => u.activeState === 'failed' && u.lastError !== undefined);
    expect(cell.activeState).toBe('failed');
    expect(cell.lastError).toMatchObject({ code: 'ENGINE_START_FAILED', unit: 'nuttx.cell' });
    expect(cell.lastError!.message).toContain('writing the inline configuration to /run/crtos/cells/nuttx.cell failed');
    expect(cell.lastError!.message).toContain('Not a directory');
    const ops = await f.ops();
    expect(ops.filter((o) => o.startsWith('jailhouse cell'))).toEqual([]);
    expect((await f.machine.state()).jailhouse.cells.map((c) => c.name)).not.toContain('nuttx');
    expect(readdirSync(join(f.machine.dir, 'run/crtos'))).toEqual(['cells']);
    expect(m.getUnit('hello.loader')!.activeState).not.toBe('active');
  });
});
