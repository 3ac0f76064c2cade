/**
 * What a real hypervisor showed that the simulator used to make instant (upstream Jailhouse on
 * QEMU arm64; src/sim/README.md): an inmate that faults in its first instructions is `failed` when `cell start` returns;
 * `cell destroy` reads `invalid` for a while; `disable` removes the cells about a second before
 * `enabled` reads 0. Each sequence is recorded by polling sysfs while the command runs, as crtosd
 * (or an operator's `watch cat …`) would see it. The polling blocks are not concurrent: another
 * test's synchronous work in this process would stall the poller past a phase.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeConfig } from '../../src/jailhouse/index.js';
import { DEFAULT_TIMINGS, REAL_TIMINGS, nuttxCellConfig, type SimMachine } from '../../src/sim/index.js';
import { validateFaults } from '../../src/sim/faults.js';
import { observeWhile, read } from './observe.js';
import { machineFile, tempMachine, untilMachine } from './helpers.js';

const JH = 'sys/devices/jailhouse';
const EXAMPLE = { revision: 12 as const, arch: 'x86' as const, cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };

function cellIds(m: SimMachine): string {
  try {
    return readdirSync(join(m.dir, JH, 'cells'))
      .filter((e) => /^\d+$/.test(e))
      .sort()
      .join(',');
  } catch {
    return '-';
  }
}

/** `expected` appears in `seen` in this order (other, transient observations may lie between). */
function expectInOrder(seen: string[], expected: string[]): void {
  let i = 0;
  for (const o of seen) if (o === expected[i]) i++;
  expect(i, `expected, in order:\n  ${expected.join('\n  ')}\nseen:\n  ${seen.join('\n  ')}`).toBe(expected.length);
}

describe.concurrent('a cell that fails inside its start', () => {
  it('is already failed, with its CPU, when `cell start` returns 0; the next start runs (times: 1)', async () => {
    const m = await tempMachine();
    await m.setCellFailures([{ cell: 'nuttx', atStart: true, times: 1 }]);
    await m.bringUp('loaded');
    const r = await m.run('jailhouse', ['cell', 'start', 'nuttx']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    // Read at once, before anything else can have happened.
    expect(machineFile(m, `${JH}/cells/1/state`)).toBe('failed\n');
    expect(machineFile(m, `${JH}/cells/1/cpus_failed_list`)).toBe('3\n');
    expect(machineFile(m, `${JH}/cells/1/cpus_failed`)).toBe('8\n');
    expect(m.inmate('nuttx')).toBeUndefined();
    const log = await m.readLog();
    const failedAt = log.findIndex((e) => e.op === 'cell failed');
    const startAt = log.findIndex((e) => e.op === 'jailhouse cell start');
    expect(log[failedAt]).toMatchObject({ args: ['nuttx'], result: 'failed', detail: { by: 'jailhouse cell start', why: 'at start' } });
    expect(log[startAt]).toMatchObject({ result: 'ok', exitCode: 0 });
    expect(failedAt).toBeLessThan(startAt);
    // The failure is used up: `cell start` restarts the failed cell, and it runs.
    expect((await m.faults()).cellFailures).toEqual([]);
    expect((await m.run('jailhouse', ['cell', 'start', 'nuttx'])).code).toBe(0);
    expect(machineFile(m, `${JH}/cells/1/state`)).toBe('running\n');
    expect(machineFile(m, `${JH}/cells/1/cpus_failed_list`)).toBe('\n');
    await m.dispose();
  });

  it('without times it fails every start; shutdown clears failed, load and destroy work from failed', async () => {
    const m = await tempMachine();
    await m.setCellFailures([{ cell: 'nuttx', atStart: true }]);
    await m.bringUp('loaded');
    for (let i = 0; i < 2; i++) {
      expect((await m.runInProcess('jailhouse', ['cell', 'start', 'nuttx'])).code).toBe(0);
      expect(machineFile(m, `${JH}/cells/1/state`)).toBe('failed\n');
    }
    const list = await m.runInProcess('jailhouse', ['cell', 'list']);
    expect(list.stdout).toMatch(/1 {7}nuttx {19}failed {12}3 {23}3/);
    expect((await m.runInProcess('jailhouse', ['cell', 'shutdown', 'nuttx'])).code).toBe(0);
    expect(machineFile(m, `${JH}/cells/1/state`)).toBe('shut down\n');
    expect(machineFile(m, `${JH}/cells/1/cpus_failed_list`)).toBe('\n');
    expect((await m.runInProcess('jailhouse', ['cell', 'start', 'nuttx'])).code).toBe(0);
    expect((await m.runInProcess('jailhouse', ['cell', 'load', 'nuttx', '/opt/crtos/nuttx.bin'])).code).toBe(0);
    expect((await m.runInProcess('jailhouse', ['cell', 'start', 'nuttx'])).code).toBe(0);
    expect((await m.runInProcess('jailhouse', ['cell', 'destroy', 'nuttx'])).code).toBe(0);
    expect(machineFile(m, `${JH}/cells/1/state`)).toBeNull();
    // Only the failures at start were logged (four starts), none from a runner.
    expect((await m.readLog()).filter((e) => e.op === 'cell failed').map((e) => e.detail?.why)).toEqual(['at start', 'at start', 'at start', 'at start']);
  });

  it('a failure after start with times: 1 hits one run only', async () => {
    const m = await tempMachine();
    await m.setCellFailures([{ cell: 'nuttx', afterStartMs: 0, times: 1 }]);
    await m.bringUp('running');
    await untilMachine(m, 'the cell to fail and the failure to be logged', async () => (await m.state()).jailhouse.cells[0]?.state === 'failed' && (await m.readLog()).some((e) => e.op === 'cell failed'));
    expect((await m.faults()).cellFailures).toEqual([]);
    expect((await m.runInProcess('jailhouse', ['cell', 'start', 'nuttx'])).code).toBe(0);
    // The new run's guest is up and has nothing left to fail it with.
    await untilMachine(m, "the new run's guest to be served", async () => m.inmate('nuttx')?.token === (await m.state()).jailhouse.cells[0]?.runToken);
    expect((await m.state()).jailhouse.cells[0]?.state).toBe('running');
    await m.dispose();
  });
});

describe('cell destroy takes time', () => {
  it('state reads invalid while the CPUs come back one by one, then the directory goes; the command returns after', async () => {
    const m = await tempMachine();
    writeFileSync(join(m.dir, 'etc/jailhouse/duo.cell'), encodeConfig({ ...nuttxCellConfig(EXAMPLE), name: 'duo', cpus: [2, 3] }));
    await m.bringUp('enabled');
    await m.setTimings({ destroyMs: 800 });
    for (const args of [['cell', 'create', '/etc/jailhouse/duo.cell'], ['cell', 'start', 'duo']]) expect((await m.runInProcess('jailhouse', args)).code).toBe(0);
    const look = () => `cells=${cellIds(m)} state=${read(m, `${JH}/cells/1/state`)} failed=${read(m, `${JH}/cells/1/cpus_failed_list`)} online=${read(m, 'sys/devices/system/cpu/online')} root=${read(m, `${JH}/cells/0/cpus_assigned_list`)}`;
    const before = Date.now();
    const { seen, result } = await observeWhile(look, m.run('jailhouse', ['cell', 'destroy', 'duo']));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(Date.now() - before).toBeGreaterThanOrEqual(790);
    expectInOrder(seen, [
      'cells=0,1 state=running failed= online=0-1 root=0-1',
      'cells=0,1 state=invalid failed= online=0-1 root=0-1',
      // add_cpu of the first CPU: online again and back in the root cell while the cell still reads invalid.
      'cells=0,1 state=invalid failed= online=0-2 root=0-2',
      'cells=0 state=- failed=- online=0-3 root=0-3',
    ]);
    const [destroy] = (await m.readLog()).filter((e) => e.op === 'jailhouse cell destroy');
    expect(destroy).toMatchObject({ result: 'ok', detail: { timings: { destroyMs: 800 } } });
    expect(destroy!.lockedMs).toBeGreaterThanOrEqual(790);
  });

  it('holds the driver mutex: a create issued during the invalid phase waits, then finds the CPU free', async () => {
    const m = await tempMachine();
    await m.bringUp('running');
    await m.setTimings({ destroyMs: 1000 });
    const destroy = m.run('jailhouse', ['cell', 'destroy', 'nuttx']);
    await untilMachine(m, 'cell 1 to read invalid', () => read(m, `${JH}/cells/1/state`) === 'invalid', { files: [`${JH}/cells/1/state`] });
    // `cell list` reads sysfs without the mutex and shows the state as it is (in-process: no start-up to wait for).
    expect((await m.runInProcess('jailhouse', ['cell', 'list'])).stdout).toMatch(/1 {7}nuttx {19}invalid {11}3 {23} {24}\n/);
    const create = await m.runInProcess('jailhouse', ['cell', 'create', '/etc/jailhouse/nuttx.cell']);
    expect(create).toMatchObject({ code: 0, stderr: '' });
    expect((await destroy).code).toBe(0);
    const log = await m.readLog();
    const d = log.find((e) => e.op === 'jailhouse cell destroy');
    // The last create: the first one was the bring-up's.
    const c = log.filter((e) => e.op === 'jailhouse cell create').at(-1);
    // It asked for the mutex during the destroy and got it once the destroy was over.
    expect(c!.workStart!).toBeLessThan(d!.end!);
    expect(c!.lockAcquired!).toBeGreaterThanOrEqual(d!.end! - 1);
    expect(machineFile(m, `${JH}/cells/1/state`)).toBe('shut down\n');
  });

  it('cell list, when a cell goes between its listing and its reads, fails like the C tool', async () => {
    const m = await tempMachine();
    await m.bringUp('created');
    // The directory is listed, then its attribute is gone: what a destroy finishing in between gives.
    rmSync(join(m.dir, JH, 'cells/1/state'));
    expect(await m.runInProcess('jailhouse', ['cell', 'list'])).toMatchObject({ code: 1, stdout: '', stderr: 'opening /sys/devices/jailhouse/cells/1/state: No such file or directory\n' });
  });

  it('a destroy killed in its invalid phase is finished by the kernel before the next command runs', async () => {
    const m = await tempMachine();
    await m.bringUp('running');
    await m.setTimings({ destroyMs: 1500 });
    const child = spawn(join(m.binDir, 'jailhouse'), ['cell', 'destroy', 'nuttx'], { env: m.env, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    // Its transition committed whole (state and sysfs), so it sleeps in the phase now.
    await untilMachine(m, 'cell 1 to read invalid, the rest of the destroy pending', async () => read(m, `${JH}/cells/1/state`) === 'invalid' && (await m.state()).jailhouse.pending !== undefined, { files: [`${JH}/cells/1/state`] });
    child.kill('SIGKILL');
    await exited;
    // Nobody advanced it: sysfs still reads invalid.
    expect(read(m, `${JH}/cells/1/state`)).toBe('invalid');
    // The next ioctl takes the mutex over, lets the destroy finish, then runs.
    expect(await m.runInProcess('jailhouse', ['cell', 'destroy', 'nuttx'])).toMatchObject({ code: 1, stderr: 'JAILHOUSE_CELL_DESTROY: No such file or directory\n' });
    expect(cellIds(m)).toBe('0');
    expect(read(m, 'sys/devices/system/cpu/online')).toBe('0-3');
    expect((await m.state()).jailhouse.pending).toBeUndefined();
  });
});

describe('disable takes time', () => {
  const pci = (m: SimMachine) => {
    try {
      return readdirSync(join(m.dir, 'sys/bus/pci/devices')).sort().join(',');
    } catch {
      return '-';
    }
  };
  const look = (m: SimMachine) => () =>
    `enabled=${read(m, `${JH}/enabled`)} cells=${cellIds(m)} nuttx=${read(m, `${JH}/cells/1/state`)} shadow=${existsSync(join(m.dir, 'dev/shadow-process0')) ? 'yes' : 'no'} pci=${pci(m)} refcnt=${read(m, 'sys/module/jailhouse/refcnt')}`;
  const DEVICES = 'pci=0000:00:0d.0,0000:00:0e.0';
  const SEQUENCE = [
    `enabled=1 cells=0,1 nuttx=running shadow=yes ${DEVICES} refcnt=1`,
    // The cell's destroy.
    `enabled=1 cells=0,1 nuttx=invalid shadow=yes ${DEVICES} refcnt=1`,
    // The cells are gone, the root cell's virtual PCI devices too, and `enabled` still reads 1.
    'enabled=1 cells=0 nuttx=- shadow=no pci= refcnt=1',
    'enabled=0 cells= nuttx=- shadow=no pci= refcnt=0',
  ];

  it('behind crtosd\'s back (in-process, as a test does it): cells gone while enabled still reads 1', async () => {
    const m = await tempMachine();
    await m.bringUp('drivers');
    await m.setTimings({ destroyMs: 400, disableMs: 600 });
    const before = Date.now();
    const { seen, result } = await observeWhile(look(m), m.runInProcess('jailhouse', ['disable']));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(Date.now() - before).toBeGreaterThanOrEqual(990);
    expectInOrder(seen, SEQUENCE);
    // Never the other way round: enabled 0 with a cell still listed.
    expect(seen.some((o) => o.startsWith('enabled=0') && o.includes('cells=0,1'))).toBe(false);
    const disable = (await m.readLog()).find((e) => e.op === 'jailhouse disable');
    expect(disable).toMatchObject({ result: 'ok', detail: { timings: { destroyMs: 400, disableMs: 600 }, kernelLog: 'The Jailhouse was closed.' } });
  });

  it('the same sequence through the wrapper, as crtosd runs it; a command issued meanwhile waits and sees it disabled', async () => {
    const m = await tempMachine();
    await m.bringUp('drivers');
    await m.setTimings({ destroyMs: 400, disableMs: 600 });
    const disable = m.run('jailhouse', ['disable']);
    const { seen } = await observeWhile(look(m), (async () => {
      // A pass that saw `enabled` 1 and no cell would create one now: it waits for the mutex and is refused.
      await untilMachine(m, 'only cell 0 listed, enabled still 1', () => cellIds(m) === '0' && read(m, `${JH}/enabled`) === '1', { files: [`${JH}/cells/0`, `${JH}/enabled`] });
      const create = await m.run('jailhouse', ['cell', 'create', `${m.dir}/etc/jailhouse/nuttx.cell`]);
      expect(create).toMatchObject({ code: 1, stderr: 'JAILHOUSE_CELL_CREATE: Invalid argument\n' });
      return disable;
    })());
    expect((await disable).code).toBe(0);
    expectInOrder(seen, SEQUENCE);
  });

  it('rmmod during the disable is refused: the module is pinned until enabled reads 0', async () => {
    const m = await tempMachine();
    await m.bringUp('created');
    await m.setTimings({ destroyMs: 0, disableMs: 500 });
    const disable = m.run('jailhouse', ['disable']);
    await untilMachine(m, 'only cell 0 listed', () => cellIds(m) === '0', { files: [`${JH}/cells/0`] });
    expect(await m.runInProcess('rmmod', ['jailhouse'])).toMatchObject({ code: 1, stderr: 'rmmod: ERROR: Module jailhouse is in use\n' });
    expect((await disable).code).toBe(0);
    expect((await m.runInProcess('rmmod', ['jailhouse'])).code).toBe(0);
  });
});

describe.concurrent('timings settings', () => {
  it('default to small non-zero values, and the real ones are at hand', async () => {
    expect(DEFAULT_TIMINGS.destroyMs).toBeGreaterThan(0);
    expect(DEFAULT_TIMINGS.disableMs).toBeGreaterThan(0);
    expect(DEFAULT_TIMINGS.destroyMs + DEFAULT_TIMINGS.disableMs).toBeLessThanOrEqual(100);
    expect(REAL_TIMINGS).toEqual({ destroyMs: 500, disableMs: 1000, replyPollNs: 100 });
    const m = await tempMachine();
    await m.setTimings({ destroyMs: 0 });
    await m.setTimings({ disableMs: 7 });
    expect((await m.faults()).timings).toEqual({ destroyMs: 0, disableMs: 7 });
    await m.setTimings(null);
    expect((await m.faults()).timings).toBeUndefined();
  });

  it('zero durations: every step at once, nothing pending, as before', async () => {
    const m = await tempMachine();
    await m.bringUp('running');
    await m.setTimings({ destroyMs: 0, disableMs: 0 });
    expect((await m.runInProcess('jailhouse', ['cell', 'destroy', 'nuttx'])).code).toBe(0);
    expect(cellIds(m)).toBe('0');
    expect((await m.runInProcess('jailhouse', ['disable'])).code).toBe(0);
    expect(read(m, `${JH}/enabled`)).toBe('0');
    expect((await m.state()).jailhouse.pending).toBeUndefined();
    expect((await m.readLog()).find((e) => e.op === 'jailhouse disable')?.detail?.timings).toBeUndefined();
  });

  it('rejects malformed timings and cell failures', () => {
    const base = { faults: [], latencies: {} };
    expect(validateFaults({ ...base, cellFailures: [], timings: { destroyMs: -1 } })).toHaveLength(1);
    expect(validateFaults({ ...base, cellFailures: [], timings: { bootMs: 1 } as never })).toHaveLength(1);
    expect(validateFaults({ ...base, cellFailures: [{ cell: 'x', atStart: true, afterStartMs: 5 }] })).toHaveLength(1);
    expect(validateFaults({ ...base, cellFailures: [{ cell: 'x', atStart: true, times: 0 }] })).toHaveLength(1);
    expect(validateFaults({ ...base, cellFailures: [{ cell: 'x', atStart: true, times: 2 }], timings: REAL_TIMINGS })).toEqual([]);
  });
});

describe.concurrent('a non-passive cell that never answers a reconfiguration message', () => {
  it('turns failed with an empty failed-CPU list when another cell is created or destroyed (msg_reply_timeout set)', async () => {
    const m = await tempMachine();
    // Two cells side by side: only one may hold the nuttx cell's ends of the links (EBUSY).
    const active = { ...nuttxCellConfig(EXAMPLE), flags: [] as string[] };
    writeFileSync(join(m.dir, 'etc/jailhouse/patient.cell'), encodeConfig({ ...active, name: 'patient', cpus: [1], msgReplyTimeout: 1000n }));
    writeFileSync(join(m.dir, 'etc/jailhouse/other.cell'), encodeConfig({ ...nuttxCellConfig(EXAMPLE), name: 'other', cpus: [2], pciDevices: [] }));
    await m.bringUp('enabled');
    for (const args of [['cell', 'create', '/etc/jailhouse/patient.cell'], ['cell', 'start', 'patient']]) expect((await m.runInProcess('jailhouse', args)).code).toBe(0);
    await m.setCellReply('patient', 'silent');
    expect((await m.runInProcess('jailhouse', ['cell', 'create', '/etc/jailhouse/other.cell'])).code).toBe(0);
    expect(machineFile(m, `${JH}/cells/1/state`)).toBe('failed\n');
    expect(machineFile(m, `${JH}/cells/1/cpus_failed_list`)).toBe('\n');
    expect((await m.readLog()).find((e) => e.op === 'cell failed')).toMatchObject({ args: ['patient'], detail: { by: 'jailhouse cell create', why: 'reconfiguration message unanswered' } });
    // An answering cell (the default) is left alone, on destroy too.
    expect((await m.runInProcess('jailhouse', ['cell', 'start', 'patient'])).code).toBe(0);
    await m.setCellReply('patient', 'approve');
    expect((await m.runInProcess('jailhouse', ['cell', 'destroy', 'other'])).code).toBe(0);
    expect(machineFile(m, `${JH}/cells/1/state`)).toBe('running\n');
    await m.dispose();
  });
});

describe.concurrent('sysfs attributes', () => {
  it('are read-only; core (0400) appears on enable and stays after disable until the module goes', async () => {
    const m = await tempMachine();
    const mode = (p: string) => statSync(join(m.dir, p)).mode & 0o777;
    await m.bringUp('module');
    expect(mode(`${JH}/enabled`)).toBe(0o444);
    expect(machineFile(m, `${JH}/core`)).toBeNull();
    await m.bringUp('created');
    for (const p of ['enabled', 'mem_pool_size', 'console', 'cells/0/state', 'cells/1/state', 'cells/1/cpus_failed_list', 'cells/1/statistics/vmexits_total']) expect(mode(`${JH}/${p}`), p).toBe(0o444);
    expect(mode(`${JH}/core`)).toBe(0o400);
    // Other sysfs files keep their modes (cpuN/online is writable, as in Linux).
    expect(mode('sys/devices/system/cpu/cpu1/online')).toBe(0o644);
    expect((await m.runInProcess('jailhouse', ['disable'])).code).toBe(0);
    expect(mode(`${JH}/core`)).toBe(0o400);
    expect((await m.runInProcess('rmmod', ['jailhouse'])).code).toBe(0);
    expect(machineFile(m, `${JH}/core`)).toBeNull();
    await m.bringUp('module');
    expect(machineFile(m, `${JH}/core`)).toBeNull();
  });
});
