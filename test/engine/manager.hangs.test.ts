/**
 * Hung tools are contained (issue 10, item 5), on the simulated machine: each Jailhouse command
 * and `ip` hanging once fails its unit at the unit's own timeout (2 s here) with ENGINE_TIMEOUT
 * naming the command, the tool is gone at that moment, no second command of the kind ran while it
 * lived, nothing it did finishes late, the units beside it did not wait, and everything converges
 * afterwards. A hung `ip addr show` of observation is killed at its short bound and logged; a
 * loader whose chrt hangs is never reported active.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { LogLine, UnitStatus } from '../../src/engine/manager-api.js';
import { createLinuxHost } from '../../src/host/index.js';
import { ALL_ACTIVE, fastSupervision, makeFixture, managerEvents, settle, states, until, type Fixture } from './harness.js';
import { alive, HANG_CASES, hungEntry, mutating, opsLog, reachBy, type HangCase } from './hang-cases.js';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
});

const TIMEOUT_MS = 2000;
/** The host's SIGTERM grace and scheduling on a loaded machine: the failure comes this soon after the timeout. */
const SLACK_MS = 1500;

interface Failure {
  at: number;
  status?: UnitStatus;
  line?: LogLine;
  /** Whether the hung tool was still alive when the failure was announced. */
  toolAlive: boolean;
}

/**
 * Brings the case's operation to hang once and checks its containment, and, unless `converge` is
 * false, that everything converged afterwards.
 */
async function hangOnce(c: HangCase, converge: boolean): Promise<void> {
  const f = (fixture = await makeFixture());
  fastSupervision(f, '2s');
  const m = f.manager();
  if (c.via !== 'boot') {
    await m.start();
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
  }
  const activeAt = new Map<string, number>();
  let failure: Failure | undefined;
  let activeWhileHung: string | undefined;
  const toolAlive = () => {
    const hung = hungEntry(f, c.op);
    return hung !== undefined && alive(hung.pid);
  };
  m.on('unitChanged', (s: UnitStatus) => {
    if (s.activeState === 'active' && !activeAt.has(s.id)) activeAt.set(s.id, Date.now());
    if (s.id === c.unit && !failure && s.lastError?.code === 'ENGINE_TIMEOUT') failure = { at: Date.now(), status: s, toolAlive: toolAlive() };
    if (s.id === c.unit && !failure && s.activeState === 'active' && hungEntry(f, c.op)) activeWhileHung = JSON.stringify(s);
  });
  m.on('log', (line: LogLine) => {
    if (c.unit === undefined && !failure && line.level === 'warn' && line.message.includes('ip addr show')) failure = { at: Date.now(), line, toolAlive: toolAlive() };
  });
  await f.machine.setFaults([{ op: c.op, hang: true, times: 1 }]);
  const since = Date.now();
  if (c.via === 'boot') void m.start();
  else {
    reachBy(f, c.via);
    void m.reload();
  }

  await until(() => failure !== undefined, 20_000, `${c.unit ?? 'observation'} to fail with ENGINE_TIMEOUT`, [managerEvents(m)]);
  const hung = hungEntry(f, c.op)!;
  expect(hung, `the ${c.op} line of the operation log`).toBeDefined();
  const fail = failure!;
  // At its own timeout, with the tool gone right then.
  expect(fail.toolAlive, `pid ${hung.pid} still alive when the unit failed`).toBe(false);
  expect(alive(hung.pid)).toBe(false);
  const tookMs = fail.at - (hung.start ?? since);
  expect(tookMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
  expect(tookMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  if (fail.status) {
    expect(fail.status.lastError?.message).toContain(c.op === 'ip addr add' ? 'ip addr add 172.16.0.1/24' : c.op);
    expect(fail.status.lastError?.message).toContain(`within ${TIMEOUT_MS} ms`);
    expect(fail.status.lastError?.message).toContain(`killed it with its process group (pid ${hung.pid})`);
  } else {
    expect(fail.line?.unit).toBe('crtos-link.network');
    expect(fail.line?.message).toContain(`did not answer within ${TIMEOUT_MS} ms and was killed`);
  }
  expect(activeWhileHung).toBeUndefined();

  // Nothing else waited behind it: the units beside it came up while it hung (observation
  // itself waits for its probe, up to the probe's bound: checked below).
  for (const id of c.unit === undefined ? [] : c.independent) {
    if (c.via === 'boot') expect(activeAt.get(id) ?? Infinity, `${id} active before the hang ended`).toBeLessThan(fail.at);
    else expect(m.getUnit(id)?.activeState, id).toBe('active');
  }

  await settle(m, 30_000);

  const log = opsLog(f);
  const context = log.map((e) => `${e.start?.toFixed(0) ?? '-'} ${e.op} ${e.args.join(' ')} ${e.result}`).join('\n');
  // Nothing the hung tool did completed late, and nothing was done twice because of it.
  expect(log.filter((e) => e.detail?.pid === hung.pid).map((e) => e.result), context).toEqual(['hang']);
  expect(log.filter((e) => e.result === 'EEXIST'), context).toEqual([]);
  // No second command of its kind while it lived, and no jailhouse command queued behind it on
  // the driver lock (the cleanup after the failure runs once it is gone).
  const again = log.filter((e) => e.op === c.op && e.detail?.pid !== hung.pid && (e.start ?? 0) > (hung.start ?? 0) && (e.start ?? 0) < fail.at - 5);
  expect(again.map((e) => `${e.op} ${e.args.join(' ')}`), context).toEqual([]);
  const queued = log.filter((e) => e.op.startsWith('jailhouse') && (e.lockWaitMs ?? 0) > TIMEOUT_MS / 2);
  expect(queued.map((e) => `${e.op} ${e.args.join(' ')} waited ${e.lockWaitMs} ms for the driver lock`), context).toEqual([]);
  if (c.unit === undefined) {
    // Observation waited for the probe only up to its bound.
    const first = log.find((e) => mutating(e));
    expect((first?.start ?? Infinity) - (hung.start ?? 0), context).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  }
  // After the hang: everything converged without an operator.
  if (converge) expect(states(m)).toEqual(ALL_ACTIVE);
}

describe('a tool hanging once', () => {
  test.each(HANG_CASES)('$op ($via)', (c) => hangOnce(c, true), 60_000);
});

describe('a loader whose wrapper hangs', () => {
  test('is never reported active; the start fails once the exec bound passes, its process group killed; the restart converges', async () => {
    const f = (fixture = await makeFixture());
    fastSupervision(f, '2s');
    // The host's own limit well above the exec bound (10 s: a Loader has no timeout setting yet).
    const m = f.manager({ host: createLinuxHost({ root: f.machine.dir, env: f.machine.env, toolTimeoutMs: 60_000, exitPollMs: 50 }) });
    let failed: { status: UnitStatus; toolAlive: boolean } | undefined;
    let activeWhileHung = false;
    m.on('unitChanged', (s: UnitStatus) => {
      if (s.id !== 'hello.loader') return;
      const hung = hungEntry(f, 'chrt');
      if (!failed && s.lastError?.code === 'ENGINE_TIMEOUT') failed = { status: s, toolAlive: hung !== undefined && alive(hung.pid) };
      if (!failed && hung && s.activeState === 'active') activeWhileHung = true;
    });
    await f.machine.setFaults([{ op: 'chrt', hang: true, times: 1 }]);
    void m.start();
    await until(() => failed !== undefined, 20_000, 'hello.loader to fail', [managerEvents(m)]);
    const hung = hungEntry(f, 'chrt')!;
    expect(activeWhileHung).toBe(false);
    expect(failed!.toolAlive).toBe(false);
    expect(failed!.status.lastError?.message).toMatch(/^exec of \/opt\/crtos\/loader through chrt did not finish within 10000 ms; killed it with its process group \(pid \d+\)$/);
    // The wrapper's shell (the loader's PID) went with the hung chrt.
    const pid = Number(/pid (\d+)/.exec(failed!.status.lastError!.message)![1]);
    expect(alive(pid)).toBe(false);
    expect(alive(hung.pid)).toBe(false);
    await settle(m, 30_000);
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect(opsLog(f).filter((e) => e.op === 'chrt').map((e) => e.result)).toEqual(['hang', 'ok']);
  }, 60_000);
});
