/** Fault and timing injection, set while the machine runs, and the serialization of jailhouse. */
import { describe, expect, it } from 'vitest';
import { tempMachine, untilMachine } from './helpers.js';
import { validateFaults } from '../../src/sim/faults.js';

describe.concurrent('simulator faults and timing', () => {
  it('fails N times with the chosen errno, then works; the log records each attempt', async () => {
    const m = await tempMachine();
    await m.setFaults([{ op: 'modprobe', errno: 'EIO', times: 2 }]);
    expect(await m.runInProcess('modprobe', ['jailhouse'])).toMatchObject({ code: 1, stderr: "modprobe: ERROR: could not insert 'jailhouse': Input/output error\n" });
    expect((await m.runInProcess('modprobe', ['jailhouse'])).code).toBe(1);
    expect((await m.runInProcess('modprobe', ['jailhouse'])).code).toBe(0);
    expect((await m.readLog()).filter((e) => e.op === 'modprobe').map((e) => e.result)).toEqual(['EIO', 'EIO', 'ok']);
  });

  it('fails always when no count is given, only for the named target', async () => {
    const m = await tempMachine();
    await m.bringUp('created');
    await m.setFaults([{ op: 'jailhouse cell start', errno: 'EPERM', target: 'nuttx' }]);
    for (let i = 0; i < 3; i++) expect(await m.runInProcess('jailhouse', ['cell', 'start', 'nuttx'])).toMatchObject({ code: 1, stderr: 'JAILHOUSE_CELL_START: Operation not permitted\n' });
    expect((await m.state()).jailhouse.cells[0]?.state).toBe('shut down');
    expect((await m.runInProcess('jailhouse', ['cell', 'start', 'ghost'])).stderr).toBe('JAILHOUSE_CELL_START: No such file or directory\n');
  });

  it('hangs until killed, and logs the hang', async () => {
    const m = await tempMachine();
    await m.setFaults([{ op: 'modprobe', hang: true, times: 1 }]);
    const run = m.run('modprobe', ['jailhouse']);
    await untilMachine(m, 'modprobe to hang', async () => (await m.readLog()).some((e) => e.result === 'hang'));
    const hung = (await m.readLog()).find((e) => e.result === 'hang');
    process.kill(hung?.detail?.pid as number, 'SIGKILL');
    expect((await run).code).toBeNull();
    expect((await m.runInProcess('modprobe', ['jailhouse'])).code).toBe(0);
  });

  it('serializes concurrent jailhouse commands as the driver mutex does', async () => {
    const m = await tempMachine();
    await m.bringUp('created');
    await m.setLatencies({ 'jailhouse cell load': 300, 'jailhouse cell start': 300 });
    await Promise.all([m.run('jailhouse', ['cell', 'load', 'nuttx', `${m.dir}/opt/crtos/nuttx.bin`]), m.run('jailhouse', ['cell', 'start', 'nuttx'])]);
    const done = (await m.readLog()).filter((e) => e.op === 'jailhouse cell load' || e.op === 'jailhouse cell start').map((e) => Date.parse(e.time));
    expect(done).toHaveLength(2);
    // Each held the mutex for its 300 ms latency: they finished at least 300 ms apart.
    expect(Math.abs((done[1] as number) - (done[0] as number))).toBeGreaterThanOrEqual(290);
  });

  it('logs each operation\'s phases: process start, lock request, lock acquired, end', async () => {
    const m = await tempMachine();
    await m.bringUp('created');
    await m.setLatencies({ 'jailhouse cell load': 200, 'jailhouse cell start': 200 });
    const before = Date.now();
    await Promise.all([m.run('jailhouse', ['cell', 'load', 'nuttx', `${m.dir}/opt/crtos/nuttx.bin`]), m.run('jailhouse', ['cell', 'start', 'nuttx'])]);
    const after = Date.now();
    const ops = (await m.readLog()).filter((e) => e.op === 'jailhouse cell load' || e.op === 'jailhouse cell start');
    expect(ops).toHaveLength(2);
    for (const e of ops) {
      const { start, workStart, lockAcquired, end } = e as Required<typeof e>;
      // The tool's process started after the call (node start-up), and the phases are ordered.
      expect(start).toBeGreaterThanOrEqual(before - 5);
      expect(start).toBeLessThanOrEqual(workStart);
      expect(workStart).toBeLessThanOrEqual(lockAcquired);
      expect(lockAcquired).toBeLessThanOrEqual(end);
      expect(end).toBeLessThanOrEqual(after + 5);
      expect(e.startupMs).toBeCloseTo(workStart - start, 2);
      expect(e.lockWaitMs).toBeCloseTo(lockAcquired - workStart, 2);
      expect(e.durationMs).toBeCloseTo(end - start, 2);
      // The latency is spent under the lock.
      expect(e.lockedMs).toBeGreaterThanOrEqual(195);
    }
    // The locked sections did not overlap: the second got the lock after the first was done.
    const [first, second] = [...ops].sort((a, b) => a.lockAcquired! - b.lockAcquired!) as [(typeof ops)[0], (typeof ops)[0]];
    expect(second.lockAcquired!).toBeGreaterThanOrEqual(first.end!);
  });

  it('an operation without the driver lock logs start, work start and end only', async () => {
    const m = await tempMachine();
    await m.setLatencies({ modprobe: 50 });
    await m.runInProcess('modprobe', ['jailhouse']);
    const [e] = (await m.readLog()).filter((x) => x.op === 'modprobe');
    expect(e).toBeDefined();
    expect(e!.lockAcquired).toBeUndefined();
    expect(e!.lockedMs).toBeUndefined();
    expect(e!.start!).toBeLessThanOrEqual(e!.workStart!);
    expect(e!.end! - e!.workStart!).toBeGreaterThanOrEqual(48);
    expect(e!.durationMs).toBeCloseTo(e!.end! - e!.start!, 2);
  });

  it('a cell goes to failed at its scheduled time: sysfs, failed CPUs, endpoint closed', async () => {
    const m = await tempMachine();
    await m.setCellFailures([{ cell: 'nuttx', afterStartMs: 300 }]);
    await m.bringUp('running');
    // The runner commits the state, then logs: wait for both.
    await untilMachine(m, 'the cell to fail and the failure to be logged', async () => (await m.state()).jailhouse.cells[0]?.state === 'failed' && (await m.readLog()).some((e) => e.op === 'cell failed'));
    // Timed from the start the hypervisor recorded, not from this (possibly delayed) test's clock.
    const startedAt = (await m.state()).jailhouse.cells[0]?.startedAt as number;
    const failedAt = (await m.readLog()).find((e) => e.op === 'cell failed')?.end as number;
    expect(failedAt - startedAt).toBeGreaterThanOrEqual(295);
    const list = await m.runInProcess('jailhouse', ['cell', 'list']);
    expect(list.stdout).toMatch(/1 {7}nuttx {19}failed {12}3 {23}3/);
  });

  it('observations fail too: ip show, cell list, console', async () => {
    const m = await tempMachine();
    await m.bringUp('enabled');
    await m.setFaults([
      { op: 'ip addr show', errno: 'EPERM', times: 1 },
      { op: 'jailhouse cell list', errno: 'EIO', times: 1 },
      { op: 'jailhouse console', errno: 'EIO', times: 1 },
    ]);
    expect(await m.runInProcess('ip', ['-j', 'addr', 'show'])).toMatchObject({ code: 1, stderr: 'Cannot send dump request: Operation not permitted\n' });
    expect(await m.runInProcess('jailhouse', ['cell', 'list'])).toMatchObject({ code: 1, stderr: 'reading /sys/devices/jailhouse/cells: Input/output error\n' });
    expect(await m.runInProcess('jailhouse', ['console'])).toMatchObject({ code: 1, stderr: 'read(console): Input/output error\n' });
    expect((await m.runInProcess('ip', ['-j', 'addr', 'show'])).code).toBe(0);
  });

  it('chrt can be refused SCHED_FIFO, as in an unprivileged container', async () => {
    const m = await tempMachine();
    await m.setFaults([{ op: 'chrt', errno: 'EPERM', target: 'fifo' }]);
    const r = await m.run('chrt', ['-f', '80', '/bin/true']);
    expect(r).toMatchObject({ code: 1, stderr: "chrt: failed to set pid 0's policy: Operation not permitted\n" });
    expect((await m.run('chrt', ['-o', '0', '/bin/true'])).code).toBe(0);
  });

  it('rejects malformed fault settings', () => {
    expect(validateFaults({ faults: [{ op: 'nope' as never, errno: 'EIO' }], latencies: {}, cellFailures: [] })).toHaveLength(1);
    expect(validateFaults({ faults: [{ op: 'modprobe', errno: 'EWHAT' as never }], latencies: {}, cellFailures: [] })).toHaveLength(1);
    expect(validateFaults({ faults: [{ op: 'modprobe' }], latencies: {}, cellFailures: [] })).toHaveLength(1);
    expect(validateFaults({ faults: [], latencies: { modprobe: -1 }, cellFailures: [] })).toHaveLength(1);
    expect(validateFaults({ faults: [], latencies: {}, cellFailures: [{ cell: 'x' }] })).toHaveLength(1);
    expect(validateFaults({ faults: [{ op: 'rmmod', errno: 'EBUSY', times: 2 }], latencies: { insmod: 5 }, cellFailures: [{ cell: 'x', at: 1 }] })).toEqual([]);
  });
});
