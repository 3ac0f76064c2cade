/**
 * The supervisor (src/engine/supervisor.ts) on the simulated machine, without the Manager: the
 * failure policy of a unit found failed, a process unit's exit, restarts within the start limit,
 * and the poll that notices a cell changing state. Each test waits for the reconcile the
 * supervisor asks for, as the Manager's loop would receive it.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { dirname } from 'node:path';
import { fastSupervision, makeFixture, type Fixture } from './harness.js';
import { makeParts, type Parts } from './parts.js';
import { StartHistory } from '../../src/engine/supervision.js';
import { takeSnapshot } from '../../src/engine/observe.js';

let f: Fixture;
let parts: Parts | undefined;

beforeEach(async () => {
  f = await makeFixture();
  fastSupervision(f);
});

afterEach(async () => {
  parts?.close();
  parts = undefined;
  await f.cleanup();
});

/** The example brought up by hand, and the cell recorded as this daemon's. */
async function cellRunning(p: Parts): Promise<void> {
  await f.machine.bringUp('running');
  const desc = p.descriptions.get('nuttx.cell')!;
  p.records.write(p.set.units.get('nuttx.cell')!, p.set, desc, desc.facts, 'active');
}

/** A process of this test's own, spawned through the Host like a loader (node on PATH). */
async function spawnProcess(p: Parts, exit: string) {
  return p.host.spawn({ argv: ['node', '-e', exit], env: { PATH: dirname(process.execPath) }, cwd: '/' });
}

describe('Supervisor', () => {
  test('a cell found failed gets its onFailure policy once: restart reloads it in place after restartSec', async () => {
    parts = await makeParts(f);
    await cellRunning(parts);
    await f.machine.failCell('nuttx');
    const observed = await parts.observe();
    expect(observed.get('nuttx.cell')?.state).toBe('failed');
    parts.supervisor.superviseFailures(observed);
    parts.supervisor.superviseFailures(observed); // the same failure again: handled once
    const rt = parts.runtimes.get('nuttx.cell')!;
    expect(rt).toMatchObject({ result: 'exit-code', activeState: 'activating', subState: 'auto-restart', restarts: 1, lastError: { code: 'ENGINE_CELL_FAILED' } });
    expect(rt.lastError?.message).toMatch(/^Jailhouse reports the cell failed, failed CPUs: \d/);
    expect(parts.logs.filter((l) => l.unit === 'nuttx.cell' && l.message.endsWith('; onFailure: restart'))).toHaveLength(1);
    expect(parts.holds.get('nuttx.cell')).toEqual({ reason: 'restart-pending' });
    await parts.untilReconcile(/^restart nuttx\.cell$/);
    expect(parts.table.takeRequests().reloads.get('nuttx.cell')).toBe('onFailure restart: cell failed');
    expect(parts.holds.has('nuttx.cell')).toBe(false);
  });

  test('onFailure: stop holds the failed cell down, so the next pass stops it and what requires it', async () => {
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace('onFailure: restart', 'onFailure: stop'));
    parts = await makeParts(f);
    await cellRunning(parts);
    await f.machine.failCell('nuttx');
    parts.supervisor.superviseFailures(await parts.observe());
    expect(parts.holds.get('nuttx.cell')).toEqual({ reason: 'stopped' });
    expect(parts.supervisor.hasPendingRestarts()).toBe(false);
  });

  test('a restart beyond the start limit is not scheduled: the unit is held with start-limit-hit', async () => {
    parts = await makeParts(f);
    const unit = parts.set.units.get('jailhouse.driver')!;
    const err = { code: 'ENGINE_START_FAILED' as const, message: 'modprobe failed' };
    // Within the limit a restart is scheduled …
    expect(parts.supervisor.scheduleRestart(unit, 'start failed', err)).toBe(true);
    expect(parts.holds.get(unit.id)).toEqual({ reason: 'restart-pending' });
    expect(parts.supervisor.hasPendingRestarts()).toBe(true);
    parts.supervisor.cancelRestart(unit.id);
    // … and not once the unit started as often as its limit allows (fastSupervision: 3 within 20 s).
    const history = new StartHistory();
    parts.histories.set(unit.id, history);
    for (let i = 0; i < 3; i++) history.tryStart(Date.now(), { burst: 3, interval: 20_000 });
    expect(parts.supervisor.scheduleRestart(unit, 'start failed', err)).toBe(true);
    expect(parts.holds.get(unit.id)).toEqual({ reason: 'start-limit' });
    expect(parts.runtimes.get(unit.id)).toMatchObject({ result: 'start-limit-hit', activeState: 'failed', lastError: { code: 'ENGINE_START_LIMIT' } });
    expect(parts.supervisor.hasPendingRestarts()).toBe(false);
  });

  test("a process unit's main process that fails is noticed, its record dropped, and restarted by its policy", async () => {
    parts = await makeParts(f);
    const id = await spawnProcess(parts, 'setTimeout(() => process.exit(3), 100)');
    const unit = parts.set.units.get('hello.loader')!;
    const desc = parts.descriptions.get(unit.id)!;
    parts.records.write(unit, parts.set, desc, { ...desc.facts, pid: id.pid, startTime: id.startTime }, 'active');
    parts.supervisor.watchProcess(unit.id, id);
    await parts.untilReconcile(/^hello\.loader exited$/);
    expect(parts.records.map.has(unit.id)).toBe(false);
    expect(parts.runtimes.get(unit.id)).toMatchObject({ exitCode: 3, result: 'exit-code', activeState: 'activating', subState: 'auto-restart', lastError: { code: 'ENGINE_PROCESS_EXITED' } });
    expect(parts.logs.some((l) => l.unit === unit.id && l.message === `process ${id.pid} exited with code 3`)).toBe(true);
    // restart: on-failure
    await parts.untilReconcile(/^restart hello\.loader$/);
  });

  test('a process unit that exits cleanly with restart: on-failure stays down, held as exited', async () => {
    parts = await makeParts(f);
    const id = await spawnProcess(parts, 'setTimeout(() => process.exit(0), 100)');
    const unit = parts.set.units.get('hello.loader')!;
    const desc = parts.descriptions.get(unit.id)!;
    parts.records.write(unit, parts.set, desc, { ...desc.facts, pid: id.pid, startTime: id.startTime }, 'active');
    parts.supervisor.watchProcess(unit.id, id);
    await parts.untilReconcile(/^hello\.loader exited$/);
    expect(parts.holds.get(unit.id)).toEqual({ reason: 'exited' });
    expect(parts.runtimes.get(unit.id)).toMatchObject({ result: 'success', activeState: 'inactive', subState: 'dead' });
    expect(parts.supervisor.hasPendingRestarts()).toBe(false);
  });

  test('the exit of a process being stopped is no failure', async () => {
    parts = await makeParts(f);
    const id = await spawnProcess(parts, 'setTimeout(() => process.exit(3), 100)');
    const unit = parts.set.units.get('hello.loader')!;
    const desc = parts.descriptions.get(unit.id)!;
    parts.records.write(unit, parts.set, desc, { ...desc.facts, pid: id.pid, startTime: id.startTime }, 'active');
    parts.supervisor.beginStop(unit.id);
    parts.supervisor.watchProcess(unit.id, id);
    await parts.host.waitExit(id);
    // The watch's handler, registered first on the same exit, has run; one more turn for what it chains.
    await new Promise((r) => setImmediate(r));
    expect(parts.reconciles).toEqual([]);
    expect(parts.records.map.has(unit.id)).toBe(true);
    parts.supervisor.endStop(unit.id);
  });

  test('the poll notices a cell changing state between passes and asks for a pass', async () => {
    parts = await makeParts(f, { pollIntervalMs: 50 });
    await cellRunning(parts);
    parts.supervisor.rememberBackends((await takeSnapshot(parts.host, [])).backends);
    parts.supervisor.startPolling();
    await f.machine.setCellState('nuttx', 'running/locked');
    await parts.untilReconcile(/^cell states changed$/);
  });
});
