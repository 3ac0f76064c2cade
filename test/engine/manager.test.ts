/**
 * Acceptance on the simulated machine: the cRTOS example brought up, then changed in every way
 * the issue names, asserting the machine's operation log (what was and was not done).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ALL_ACTIVE, ALL_ACTIVE_HANDWRITTEN, HANDWRITTEN_UNITS, makeFixture, settle, states, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';
import type { JobInfo, JobResult, UnitStatus } from '../../src/engine/manager-api.js';

/** The index of the first operation starting with a prefix, which must be there. */
function firstOf(ops: string[]): (prefix: string) => number {
  return (prefix) => {
    const i = ops.findIndex((o) => o.startsWith(prefix));
    expect(i, `${prefix} in\n${ops.join('\n')}`).toBeGreaterThanOrEqual(0);
    return i;
  };
}

describe('the cRTOS example on the simulated machine', () => {
  let f: Fixture;
  let m: Manager;
  /** The sub-state each unit announced when it first became active. */
  const firstActive = new Map<string, string>();

  beforeAll(async () => {
    f = await makeFixture();
    m = f.manager();
    m.on('unitChanged', (status: UnitStatus) => {
      if (status.activeState === 'active' && !firstActive.has(status.id)) firstActive.set(status.id, status.subState);
    });
  });
  afterAll(async () => f.cleanup());

  test('comes up in dependency order and every unit is active', async () => {
    const outcome = await m.start();
    expect(outcome.ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    const ops = await f.ops();
    const at = firstOf(ops);
    expect(at('modprobe jailhouse')).toBeLessThan(at('jailhouse enable'));
    expect(at('jailhouse enable')).toBeLessThan(at('insmod') );
    expect(at('jailhouse enable')).toBeLessThan(at('jailhouse cell create'));
    expect(at('jailhouse cell create')).toBeLessThan(at('jailhouse cell load'));
    expect(at('jailhouse cell load')).toBeLessThan(at('jailhouse cell start'));
    expect(at('ip addr add')).toBeLessThan(at('jailhouse cell create')); // the cell wants the link
    expect(at('jailhouse cell start')).toBeLessThan(at('chrt'));
    expect(ops.filter((o) => !o.startsWith('loader') && !o.startsWith('cell ')).length).toBe(10);
  });

  test('a unit announces the sub-state of its kind as soon as its start completes, as observation reports it', async () => {
    expect(Object.fromEntries([...firstActive].sort())).toEqual({
      'crtos-link.network': 'configured',
      'crtos-net.link': 'present',
      'hello.loader': 'running',
      'ivshmem-net.driver': 'loaded',
      'jailhouse.driver': 'loaded',
      'jailhouse.hypervisor': 'enabled',
      'nuttx.cell': 'running',
      'nuttx.image': 'verified',
      'shadow.driver': 'loaded',
      'shadow.link': 'present',
    });
    for (const [id, sub] of firstActive) expect(m.getUnit(id)!.subState, id).toBe(sub);
    // The links are active once the hypervisor runs with them, before the drivers that bind to their devices.
    const order = [...firstActive.keys()];
    expect(order.indexOf('jailhouse.hypervisor')).toBeLessThan(order.indexOf('shadow.link'));
    expect(order.indexOf('jailhouse.hypervisor')).toBeLessThan(order.indexOf('crtos-net.link'));
    expect(order.indexOf('shadow.link')).toBeLessThan(order.indexOf('shadow.driver'));
    expect(order.indexOf('crtos-net.link')).toBeLessThan(order.indexOf('ivshmem-net.driver'));
  });

  test('a second pass with nothing changed does nothing', async () => {
    await f.machine.clearLog();
    await m.trigger('test');
    expect(await f.ops()).toEqual([]);
  });

  test('a new image: the cell is reloaded (not destroyed), its loader restarted, nothing else touched', async () => {
    const image = join(f.machine.dir, 'opt/crtos/nuttx.bin');
    const bytes = Buffer.concat([readFileSync(image), Buffer.from('v2')]);
    writeFileSync(join(f.machine.dir, 'opt/crtos/nuttx-v2.bin'), bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const pidBefore = m.getUnit('hello.loader')!.details;
    await f.machine.clearLog();
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace('/opt/crtos/nuttx.bin', '/opt/crtos/nuttx-v2.bin').replace(/sha256: [0-9a-f]{64}/, `sha256: ${sha}`));
    const outcome = await m.reload();
    expect(outcome.steps.map((s) => `${s.action} ${s.unit}`).sort()).toEqual(['reload nuttx.cell', 'restart hello.loader']);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    const ops = (await f.ops()).filter((o) => !o.startsWith('loader'));
    expect(ops.map((o) => o.split(' /')[0]!.split(' --')[0])).toEqual([
      'jailhouse cell shutdown cell shutdown',
      'jailhouse cell load cell load',
      'jailhouse cell start cell start',
      'chrt -f 80',
    ]);
    expect(ops[1]).toContain('nuttx-v2.bin');
    expect(m.getUnit('hello.loader')!.details).not.toEqual(pidBefore);
  });

  test('an edited loader: only it restarts', async () => {
    await f.machine.clearLog();
    const cellBefore = m.getUnit('nuttx.cell')!.timestamps.activeEnter;
    f.writeUnit('hello.yaml', f.readUnit('hello.yaml').replace('SHADOWPROC: /dev/shadow-process0', 'SHADOWPROC: /dev/shadow-process0, VERBOSE: "1"'));
    const outcome = await m.reload();
    expect(outcome.steps.map((s) => `${s.action} ${s.unit}`)).toEqual(['restart hello.loader']);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect((await f.ops()).filter((o) => !o.startsWith('loader'))).toEqual([expect.stringMatching(/^chrt -f 80 /)]);
    expect(m.getUnit('nuttx.cell')!.timestamps.activeEnter).toBe(cellBefore);
  });

  test('an invalid edit: no operation at all, the error reported, and the next valid edit applied', async () => {
    await f.machine.clearLog();
    const good = f.readUnit('hello.yaml');
    f.writeUnit('hello.yaml', good.replace('restart: on-failure', 'restart: sometimes'));
    const bad = await m.reload();
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]).toMatchObject({ file: expect.stringContaining('hello.yaml'), line: expect.any(Number) });
    expect(m.daemon().lastLoadErrors.length).toBeGreaterThan(0);
    await settle(m);
    expect(await f.ops()).toEqual([]);
    expect(states(m)).toEqual(ALL_ACTIVE);
    f.writeUnit('hello.yaml', good.replace('/opt/crtos/apps/hello]', '/opt/crtos/apps/hello, again]'));
    const fixed = await m.reload();
    expect(fixed.ok).toBe(true);
    await settle(m);
    expect(m.daemon().lastLoadErrors).toEqual([]);
    expect((await f.ops()).filter((o) => !o.startsWith('loader'))).toEqual([expect.stringMatching(/^chrt -f 80 .* again$/)]);
  });

  test('a new system configuration (system: another file) is held: nothing is done and the hypervisor shows it pending, until its restart is asked for; then everything comes back on it', async () => {
    const etc = join(f.machine.dir, 'etc/jailhouse');
    writeFileSync(join(etc, 'sysconfig-base-v2.cell'), readFileSync(join(etc, 'sysconfig-base.cell')));
    await f.machine.clearLog();
    f.writeUnit('jailhouse.yaml', f.readUnit('jailhouse.yaml').replace('system: /etc/jailhouse/sysconfig-base.cell', 'system: /etc/jailhouse/sysconfig-base-v2.cell'));
    const held = await m.reload();
    expect(held.ok).toBe(true);
    expect(held.steps).toEqual([{ unit: 'jailhouse.hypervisor', action: 'pending', reason: expect.stringMatching(/^re-enable \(field system changed\); apply with `crtosctl restart jailhouse\.hypervisor`/) }]);
    await settle(m);
    await m.trigger('a pass with the change held');
    expect(await f.ops()).toEqual([]);
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect(m.getUnit('jailhouse.hypervisor')!.pendingChange).toBe(held.steps[0]!.reason);
    // Nothing else waits with it: a new system configuration is no change of a cell.
    expect(m.listUnits().filter((u) => u.pendingChange !== undefined).map((u) => u.id)).toEqual(['jailhouse.hypervisor']);

    const cellBefore = m.getUnit('nuttx.cell')!.timestamps.activeEnter;
    m.enqueue('jailhouse.hypervisor', 'restart');
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect(m.getUnit('jailhouse.hypervisor')!.pendingChange).toBeUndefined();
    expect(m.getUnit('nuttx.cell')!.timestamps.activeEnter).not.toBe(cellBefore);
    const ops = (await f.ops()).filter((o) => !o.startsWith('loader') && !o.startsWith('cell '));
    const at = firstOf(ops);
    // Everything above the hypervisor down first, then disable, enable, and back up in order.
    expect(at('jailhouse cell destroy')).toBeLessThan(at('jailhouse disable'));
    expect(at('rmmod shadow')).toBeLessThan(at('jailhouse disable'));
    expect(at('jailhouse disable')).toBeLessThan(at('jailhouse enable'));
    expect(at('jailhouse enable')).toBeLessThan(at('insmod'));
    expect(at('jailhouse enable')).toBeLessThan(at('jailhouse cell create'));
    expect(at('jailhouse cell start')).toBeLessThan(at('chrt'));
    expect(ops.filter((o) => o.startsWith('rmmod jailhouse') || o.startsWith('modprobe'))).toEqual([]);
    await f.machine.clearLog();
    expect((await m.reload()).steps).toEqual([]);
    await m.trigger('a pass once applied');
    expect(await f.ops()).toEqual([]);
  });

  test('a new unit: only it starts', async () => {
    await f.machine.clearLog();
    f.writeUnit('uio.yaml', 'kind: Driver\nname: uio\npath: /opt/crtos/drivers/uio_ivshmem.ko\nrequires: [jailhouse.hypervisor]\n');
    await m.reload();
    await settle(m);
    expect((await f.ops()).filter((o) => !o.startsWith('loader'))).toEqual([expect.stringMatching(/^insmod .*uio_ivshmem\.ko$/)]);
    expect(m.getUnit('uio.driver')?.activeState).toBe('active');
  });

  test('manual jobs: returned at once, announced by jobRemoved; stop holds a unit down, start brings it back', async () => {
    await f.machine.clearLog();
    const ended = (id: number) =>
      new Promise<JobResult>((resolve) => {
        const listener = (job: JobInfo, result: JobResult) => {
          if (job.id !== id) return;
          m.off('jobRemoved', listener);
          resolve(result);
        };
        m.on('jobRemoved', listener);
      });
    const stop = m.enqueue('uio.driver', 'stop');
    expect(stop).toMatchObject({ unit: 'uio.driver', type: 'stop', state: 'waiting' });
    expect(await ended(stop.id)).toBe('done');
    expect(m.getUnit('uio.driver')?.activeState).toBe('inactive');
    await m.trigger('test');
    expect(m.getUnit('uio.driver')?.activeState).toBe('inactive'); // held down, not restarted
    const start = m.enqueue('uio.driver', 'start');
    expect(await ended(start.id)).toBe('done');
    expect(m.getUnit('uio.driver')?.activeState).toBe('active');
    expect((await f.ops()).filter((o) => !o.startsWith('loader'))).toEqual(['rmmod uio_ivshmem', expect.stringMatching(/^insmod .*uio_ivshmem\.ko$/)]);
    expect(() => m.enqueue('nope.cell', 'start')).toThrow(/no unit nope\.cell/);
    expect(() => m.enqueue('uio.driver', 'reload')).toThrow(/only cells reload/);
    await f.machine.clearLog();
    const reload = m.enqueue('nuttx.cell', 'reload');
    expect(await ended(reload.id)).toBe('done');
    await settle(m);
    const ops = (await f.ops()).filter((o) => o.startsWith('jailhouse') || o.startsWith('chrt'));
    expect(ops.map((o) => o.split(' ').slice(0, 3).join(' '))).toEqual(['jailhouse cell shutdown', 'jailhouse cell load', 'jailhouse cell start', 'chrt -f 80']);
  });

  test('a stopped loader reports no MainPID the moment its job is announced, before the pass observes again', async () => {
    const running = m.getUnit('hello.loader')!.details;
    expect(running.kind === 'Loader' && running.pid).toBeGreaterThan(0);
    const atRemoval = new Promise<UnitStatus | undefined>((resolve) => {
      const listener = (job: JobInfo) => {
        if (job.unit !== 'hello.loader' || job.type !== 'stop') return;
        m.off('jobRemoved', listener);
        resolve(m.getUnit('hello.loader'));
      };
      m.on('jobRemoved', listener);
    });
    m.enqueue('hello.loader', 'stop');
    const stopped = await atRemoval;
    expect(stopped?.activeState).toBe('inactive');
    expect(stopped?.details).toMatchObject({ kind: 'Loader', pid: 0 });
    m.enqueue('hello.loader', 'start');
    await settle(m);
    expect(m.getUnit('hello.loader')?.activeState).toBe('active');
  });
});

// A cell removed with its loader. In the short form its links name it as a peer, so removing it
// means editing the links, a re-enable (test/engine/links.test.ts); without links it goes alone.
describe('the hand-written cRTOS example on the simulated machine', () => {
  let f: Fixture;
  let m: Manager;
  const removed: string[] = [];

  beforeAll(async () => {
    f = await makeFixture({ units: HANDWRITTEN_UNITS });
    m = f.manager();
    m.on('jobRemoved', (job: JobInfo, result: JobResult) => removed.push(`${job.type} ${job.unit} ${result}`));
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE_HANDWRITTEN);
  });
  afterAll(async () => f.cleanup());

  test('a removed cell: its dependents stopped first, then the cell destroyed, its CPUs online again', async () => {
    await f.machine.clearLog();
    removed.length = 0;
    const cpus = m.getUnit('nuttx.cell')!.details;
    expect(cpus.kind === 'Cell' && (cpus.cpus as number[]).length).toBeGreaterThan(0);
    rmSync(join(f.unitsDir, 'hello.yaml'));
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').split('---')[0]!);
    await m.reload();
    await settle(m);
    expect(removed.indexOf('stop hello.loader done')).toBeGreaterThanOrEqual(0);
    expect(removed.indexOf('stop hello.loader done')).toBeLessThan(removed.indexOf('stop nuttx.cell done'));
    expect((await f.ops()).filter((o) => !o.startsWith('loader') && !o.startsWith('cell '))).toEqual([expect.stringMatching(/^jailhouse cell destroy /)]);
    const state = await f.machine.state();
    expect(state.jailhouse.cells.filter((c) => c.id !== 0)).toEqual([]);
    expect(state.cpusOnline.length).toBe(f.machine.description.cpus);
    expect(m.getUnit('nuttx.cell')).toBeUndefined();
    expect(m.getUnit('hello.loader')).toBeUndefined();
  });
});
