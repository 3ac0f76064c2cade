/**
 * The µs timeline the engine keeps: transition timestamps on both clocks (src/engine/status.ts,
 * src/engine/clock.ts), the operations of a bring-up recorded through the job's Host
 * (src/engine/timeline.ts), and both kept across a daemon restart with the unit's history
 * (src/engine/history.ts).
 */
import { describe, expect, test } from 'vitest';
import type { Host, ToolCall } from '../../src/host/host.js';
import { newRuntime, transition, type UnitRuntime } from '../../src/engine/status.js';
import { beginBringUp, MAX_OPERATIONS_PER_UNIT, recordingHost, summarize, timelineOf } from '../../src/engine/timeline.js';
import { UnitHistories } from '../../src/engine/history.js';
import { memoryStateStore } from '../../src/engine/state-file.js';
import type { JobInfo } from '../../src/engine/manager-api.js';

const monotonicNow = (): number => Number(process.hrtime.bigint() / 1000n);

function runtime(id = 'nuttx.cell'): UnitRuntime {
  return newRuntime(id, 'Cell', { kind: 'Cell' });
}

function withJob(rt: UnitRuntime, type: JobInfo['type'], id = 7): JobInfo {
  const job: JobInfo = { id, unit: rt.id, type, state: 'running' };
  rt.job = job;
  beginBringUp(rt, job);
  return job;
}

/** A Host whose actions are what the test says: a tool run reported to the call's observer, a file written, a probe. */
function fakeHost(calls: string[]): Host {
  let release: () => void = () => undefined;
  const host = {
    root: '/machine',
    readFile: async (p: string) => {
      calls.push(`readFile ${p}`);
      return Buffer.from('');
    },
    createCell: async (config: string, call?: ToolCall) => {
      calls.push(`createCell ${config}`);
      call?.runs?.started({ op: 'createCell', pid: 42, startTime: 1, argv: ['/usr/local/sbin/jailhouse', 'cell', 'create', config] });
      await new Promise<void>((r) => setImmediate(r));
      call?.runs?.ended({ op: 'createCell', pid: 42, startTime: 1, argv: [] });
    },
    installFile: async (source: string | Uint8Array, target: string) => {
      calls.push(`installFile ${target}`);
      await new Promise<void>((r) => (release = r));
    },
    startCell: async () => {
      throw new Error('refused');
    },
    probeTcp: async () => false,
    release: () => release(),
  };
  return host as unknown as Host & { release(): void };
}

describe('transition timestamps', () => {
  test('each transition is stamped on CLOCK_MONOTONIC and CLOCK_REALTIME in µs, the two clocks a fixed offset apart', async () => {
    const rt = runtime();
    const before = monotonicNow();
    transition(rt, 'activating', 'start');
    // 5 ms by this clock: a timer's delay counts from the event loop's cached time, so it may end
    // sooner than 5 ms after it was set.
    const waited = monotonicNow();
    while (monotonicNow() - waited < 5000) await new Promise((r) => setTimeout(r, 1));
    transition(rt, 'active', 'running');
    const after = monotonicNow();
    const m = rt.timestamps.monotonic;
    expect(m.inactiveExit).toBeGreaterThanOrEqual(before);
    expect(m.activeEnter).toBeLessThanOrEqual(after);
    // At least the 5 ms slept, counted in µs, not ms rounded.
    expect(m.activeEnter - m.inactiveExit).toBeGreaterThanOrEqual(5000);
    expect(rt.timestamps.activeEnter - rt.timestamps.inactiveExit).toBe(m.activeEnter - m.inactiveExit);
    // The realtime is the wall clock's (to its ms).
    expect(Math.abs(rt.timestamps.activeEnter / 1000 - Date.now())).toBeLessThan(1000);
    expect(m.stateChange).toBe(m.activeEnter);
    expect(m.activeExit).toBe(0);
    transition(rt, 'failed', 'failed');
    expect(rt.timestamps.monotonic.activeExit).toBe(rt.timestamps.monotonic.inactiveEnter);
    expect(rt.timestamps.monotonic.inactiveEnter).toBeGreaterThanOrEqual(m.activeEnter);
  });

  test('a unit found as its saved history left it keeps the timestamps; any other first transition is stamped', () => {
    const saved = { stateChange: 10, inactiveExit: 5, activeEnter: 10, activeExit: 0, inactiveEnter: 0 };
    const found = runtime();
    found.timestamps = { ...saved, monotonic: { ...saved } };
    found.resumed = 'active';
    expect(transition(found, 'active', 'running')).toBe(true);
    expect(found.activeState).toBe('active');
    expect(found.timestamps.monotonic).toEqual(saved);
    transition(found, 'deactivating', 'stop');
    expect(found.timestamps.monotonic.activeExit).toBeGreaterThan(10);

    const changed = runtime();
    changed.timestamps = { ...saved, monotonic: { ...saved } };
    changed.resumed = 'active';
    transition(changed, 'failed', 'failed');
    expect(changed.timestamps.monotonic.stateChange).toBeGreaterThan(10);
    transition(changed, 'active', 'running');
    expect(changed.timestamps.monotonic.activeEnter).toBeGreaterThan(10);
  });
});

describe('recordingHost', () => {
  test("a start job's actions are recorded in order with the tool's command line, their end and result; reads are not", async () => {
    const calls: string[] = [];
    const host = fakeHost(calls) as Host & { release(): void };
    const rt = runtime();
    const job = withJob(rt, 'start');
    const recorded = recordingHost(host, rt.id, (id) => (id === rt.id ? rt : undefined));
    expect(recorded.root).toBe('/machine');
    await recorded.readFile('/etc/jailhouse/nuttx.cell');
    const t0 = monotonicNow();
    await recorded.createCell('/etc/jailhouse/nuttx.cell', { runs: { started: () => undefined, ended: () => undefined } });
    const installing = recorded.installFile(new Uint8Array(3), '/lib/firmware/x.elf');
    expect(rt.operations.at(-1)).toMatchObject({ operation: 'installFile', detail: '(3 bytes) /lib/firmware/x.elf', end: 0, result: 'running' });
    host.release();
    await installing;
    await expect(recorded.startCell('nuttx')).rejects.toThrow('refused');
    expect(calls).toEqual(['readFile /etc/jailhouse/nuttx.cell', 'createCell /etc/jailhouse/nuttx.cell', 'installFile /lib/firmware/x.elf']);
    expect(rt.operations.map((o) => [o.operation, o.detail, o.result, o.job, o.jobType, o.unit])).toEqual([
      ['createCell', 'jailhouse cell create /etc/jailhouse/nuttx.cell', 'done', job.id, 'start', 'nuttx.cell'],
      ['installFile', '(3 bytes) /lib/firmware/x.elf', 'done', job.id, 'start', 'nuttx.cell'],
      ['startCell', 'nuttx', 'failed', job.id, 'start', 'nuttx.cell'],
    ]);
    const [create, install, start] = rt.operations;
    expect(create!.start).toBeGreaterThanOrEqual(t0);
    expect(create!.end).toBeGreaterThanOrEqual(create!.start);
    expect(install!.start).toBeGreaterThanOrEqual(create!.end);
    expect(start!.end).toBeGreaterThanOrEqual(start!.start);
  });

  test("the observer the caller gave still hears of the tool's process", async () => {
    const host = fakeHost([]);
    const rt = runtime();
    withJob(rt, 'start');
    const heard: string[] = [];
    await recordingHost(host, rt.id, () => rt).createCell('/c.cell', { runs: { started: (r) => heard.push(`started ${r.pid}`), ended: (r) => heard.push(`ended ${r.pid}`) } });
    expect(heard).toEqual(['started 42', 'ended 42']);
  });

  test('a run of readiness probes of one endpoint is one operation', async () => {
    const rt = runtime();
    withJob(rt, 'start');
    const recorded = recordingHost(fakeHost([]), rt.id, () => rt);
    for (let i = 0; i < 3; i++) await recorded.probeTcp('127.0.0.1', 4242, 100);
    await recorded.probeTcp('127.0.0.1', 4243, 100);
    expect(rt.operations.map((o) => `${o.operation} ${o.detail} ${o.result}`)).toEqual(['probeTcp 127.0.0.1 4242 100 done', 'probeTcp 127.0.0.1 4243 100 done']);
  });

  test("a stop job's actions and actions outside a job are not kept; a new bring-up forgets the last one's", async () => {
    const rt = runtime();
    const recorded = recordingHost(fakeHost([]), rt.id, () => rt);
    await recorded.probeTcp('127.0.0.1', 1, 1);
    withJob(rt, 'stop');
    await recorded.probeTcp('127.0.0.1', 1, 1);
    expect(rt.operations).toEqual([]);
    withJob(rt, 'reload', 8);
    await recorded.probeTcp('127.0.0.1', 2, 1);
    expect(rt.operations.map((o) => [o.job, o.jobType])).toEqual([[8, 'reload']]);
    withJob(rt, 'start', 9);
    expect(rt.operations).toEqual([]);
  });

  test('a unit keeps at most MAX_OPERATIONS_PER_UNIT operations of a job, the latest', async () => {
    const rt = runtime();
    withJob(rt, 'start');
    const recorded = recordingHost(fakeHost([]), rt.id, () => rt);
    for (let i = 0; i < MAX_OPERATIONS_PER_UNIT + 5; i++) await recorded.probeTcp('127.0.0.1', i, 1);
    expect(rt.operations).toHaveLength(MAX_OPERATIONS_PER_UNIT);
    expect(rt.operations[0]!.detail).toBe('127.0.0.1 5 1');
  });

  test('timelineOf lists every unit’s operations by start time', () => {
    const a = runtime('a.cell');
    const b = runtime('b.cell');
    const op = (unit: string, start: number) => ({ unit, job: 1, jobType: 'start' as const, operation: 'x', detail: '', start, end: start + 1, result: 'done' as const });
    a.operations = [op('a.cell', 1), op('a.cell', 30)];
    b.operations = [op('b.cell', 20)];
    expect(timelineOf([a, b]).map((o) => `${o.unit}@${o.start}`)).toEqual(['a.cell@1', 'b.cell@20', 'a.cell@30']);
  });

  test('summarize: a command line by its program’s base name, long details cut', () => {
    expect(summarize(['/usr/sbin/modprobe', 'jailhouse'], true)).toBe('modprobe jailhouse');
    expect(summarize(['/opt/a.bin', '/vmm/rtos.bin'])).toBe('/opt/a.bin /vmm/rtos.bin');
    const long = summarize(['x'.repeat(200)]);
    expect(long).toHaveLength(120);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('history', () => {
  test('timestamps, the state they led to and the last bring-up survive a restart', () => {
    const store = memoryStateStore();
    const before = new Map<string, UnitRuntime>();
    const rt = runtime();
    before.set(rt.id, rt);
    transition(rt, 'activating', 'start');
    transition(rt, 'active', 'running');
    rt.operations = [{ unit: rt.id, job: 3, jobType: 'start', operation: 'startCell', detail: 'nuttx', start: 5, end: 9, result: 'done' }];
    new UnitHistories(store.history, before, () => undefined).flush();

    const after = runtime();
    new UnitHistories(store.history, new Map(), () => undefined).restore(after);
    expect(after.timestamps).toEqual(rt.timestamps);
    expect(after.operations).toEqual(rt.operations);
    expect(after.resumed).toBe('active');
    transition(after, 'active', 'running');
    expect(after.timestamps).toEqual(rt.timestamps);
  });
});
