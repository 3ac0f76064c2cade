/**
 * The supervisor's health monitor (src/engine/supervisor.ts) without the Manager, on the simulated
 * machine: what each action of a table does with the unit, its dependents and its hypervisor (holds
 * and requests the next pass acts on), which event a failed start and a loader's exit raise, and
 * the log line of each.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { dirname } from 'node:path';
import { fastSupervision, makeFixture, type Fixture } from './harness.js';
import { makeParts, type Parts } from './parts.js';
import { problem } from '../../src/errors/problem.js';
import { requiredByClosure } from '../../src/engine/graph.js';

/** The machine and the engine's parts of the running test, made by `partsWith`. */
let current: { f: Fixture; parts: Parts } | undefined;
afterEach(async () => {
  current?.parts.close();
  await current?.f.cleanup();
  current = undefined;
});

/** The example with quick restarts, a unit file edited, and the engine's parts on it. */
async function partsWith(file: string, edit: (text: string) => string): Promise<{ f: Fixture; parts: Parts }> {
  const f = await makeFixture();
  fastSupervision(f);
  f.writeUnit(file, edit(f.readUnit(file)));
  current = { f, parts: await makeParts(f) };
  return current;
}

/** The cell's table: `health` with these `on` entries and levels, instead of onFailure; the cell runs, as this daemon's. */
async function withCellTable(health: string): Promise<Parts> {
  const { f, parts: p } = await partsWith('nuttx.yaml', (t) => t.replace('onFailure: restart\n', `health: ${health}\n`));
  await f.machine.bringUp('running');
  const desc = p.descriptions.get('nuttx.cell')!;
  p.records.write(p.set.units.get('nuttx.cell')!, p.set, desc, desc.facts, 'active');
  return p;
}

/** The cell fails and the supervisor sees it. */
async function cellFails(p: Parts): Promise<void> {
  await current!.f.machine.failCell('nuttx');
  p.supervisor.superviseFailures(await p.observe());
}

const healthLines = (p: Parts, id: string) => p.logs.filter((l) => l.unit === id && l.message.startsWith('health: '));

describe('the actions of a health table, for a cell found failed', () => {
  test('ignore: nothing but a debug line', async () => {
    const p = await withCellTable('{ on: { failed: ignore } }');
    await cellFails(p);
    expect(healthLines(p, 'nuttx.cell').map((l) => l.level)).toEqual(['debug']);
    expect([...p.holds.keys()]).toEqual([]);
    expect(p.reconciles).toEqual([]);
    expect(p.runtimes.get('nuttx.cell')!.health).toMatchObject({ events: { failed: 1 }, actions: { ignore: 1 } });
  });

  test('log: one line, the cell left as it is', async () => {
    const p = await withCellTable('{ on: { failed: log } }');
    await cellFails(p);
    expect(healthLines(p, 'nuttx.cell')).toEqual([expect.objectContaining({ level: 'error', message: expect.stringMatching(/^health: Jailhouse reports the cell failed, failed CPUs: \d+; log$/) })]);
    expect([...p.holds.keys()]).toEqual([]);
    expect(p.supervisor.hasPendingRestarts()).toBe(false);
  });

  test('stop: the cell is held down (so what requires it goes with it)', async () => {
    const p = await withCellTable('{ on: { failed: stop } }');
    await cellFails(p);
    expect(p.holds.get('nuttx.cell')).toEqual({ reason: 'stopped' });
    await p.untilReconcile(/^health nuttx\.cell: stop$/);
  });

  test('stop-dependents: every unit that requires it is held down, the cell is not', async () => {
    const p = await withCellTable('{ on: { failed: stop-dependents } }');
    await cellFails(p);
    const dependents = requiredByClosure(p.set, 'nuttx.cell');
    expect(dependents).toContain('hello.loader');
    expect(new Map(p.holds)).toEqual(new Map(dependents.map((d) => [d, { reason: 'stopped' }])));
  });

  test('restart-dependents: the units that require it are restarted by the next pass', async () => {
    const p = await withCellTable('{ on: { failed: restart-dependents } }');
    await cellFails(p);
    expect([...p.table.takeRequests().restarts].sort()).toEqual([...(p.set.deps.get('nuttx.cell')!.requiredBy)].sort());
    expect([...p.holds.keys()]).toEqual([]);
  });

  test('stop-hypervisor: its hypervisor is held down, and with it every cell', async () => {
    const p = await withCellTable('{ on: { failed: stop-hypervisor } }');
    await cellFails(p);
    expect(new Map(p.holds)).toEqual(new Map([['jailhouse.hypervisor', { reason: 'stopped' }]]));
  });

  test('reload and restart: after the back-off, a reload in place or a stop and start', async () => {
    const p = await withCellTable('{ on: { failed: warm }, levels: { warm: { action: reload, limit: 1, window: 1min, then: cold }, cold: { action: restart } } }');
    await current!.f.machine.failCell('nuttx');
    const failed = await p.observe();
    p.supervisor.superviseFailures(failed);
    expect(p.holds.get('nuttx.cell')).toEqual({ reason: 'restart-pending' });
    await p.untilReconcile(/^restart nuttx\.cell$/);
    expect(p.table.takeRequests().reloads.get('nuttx.cell')).toBe('health warm: cell failed');
    // The same failure is handled once; after a new run, failed again, warm has acted its limit.
    p.supervisor.superviseFailures(failed);
    expect(healthLines(p, 'nuttx.cell')).toHaveLength(1);
    p.supervisor.newRun('nuttx.cell');
    p.reconciles.length = 0;
    p.supervisor.superviseFailures(failed);
    await p.untilReconcile(/^restart nuttx\.cell$/);
    expect(p.table.takeRequests().restarts.has('nuttx.cell')).toBe(true);
    expect(healthLines(p, 'nuttx.cell').map((l) => l.message.slice(l.message.lastIndexOf('; ') + 2))).toEqual(['level warm: reload (1 of 1 in 1min)', 'level cold: restart (warm acted 1 time in 1min)']);
  });
});

describe('the events of failed starts and exits', () => {
  test('a start whose ready probe timed out is readyTimeout, any other failed start startFailed', async () => {
    const p = await withCellTable('{ on: { readyTimeout: stop, startFailed: log } }');
    const unit = p.set.units.get('nuttx.cell')!;
    p.supervisor.onStartFailure(unit, 'd1', problem('ENGINE_START_FAILED', 'jailhouse cell create failed'));
    expect(p.holds.get('nuttx.cell')).toEqual({ reason: 'failed', digest: 'd1' });
    p.supervisor.onStartFailure(unit, 'd1', problem('ENGINE_READY_TIMEOUT', 'cell nuttx did not accept a connection'));
    expect(p.holds.get('nuttx.cell')).toEqual({ reason: 'stopped' });
    expect(p.runtimes.get('nuttx.cell')!.health).toMatchObject({ events: { startFailed: 1, readyTimeout: 1 }, actions: { log: 1, stop: 1 } });
    expect(healthLines(p, 'nuttx.cell').map((l) => l.message)).toEqual(['health: start failed: jailhouse cell create failed; log', 'health: cell nuttx did not accept a connection; stop']);
  });

  test("a loader's clean exit is exited, an unclean one failed; restart: decides what the table leaves out", async () => {
    const { parts: p } = await partsWith('hello.yaml', (t) => t.replace('restart: on-failure', 'restart: on-failure\nhealth: { on: { exited: stop } }'));
    const unit = p.set.units.get('hello.loader')!;
    const desc = p.descriptions.get(unit.id)!;
    const exitWith = async (code: number) => {
      const id = await p.host.spawn({ argv: ['node', '-e', `process.exit(${code})`], env: { PATH: dirname(process.execPath) }, cwd: '/' });
      p.records.write(unit, p.set, desc, { ...desc.facts, pid: id.pid, startTime: id.startTime }, 'active');
      p.supervisor.watchProcess(unit.id, id);
      await p.untilReconcile(/^hello\.loader exited$/);
      p.reconciles.length = 0;
    };
    await exitWith(3);
    // restart: on-failure (the old field): the loader is restarted after its back-off.
    expect(p.holds.get(unit.id)).toEqual({ reason: 'restart-pending' });
    p.supervisor.cancelRestart(unit.id);
    await exitWith(0);
    expect(p.holds.get(unit.id)).toEqual({ reason: 'stopped' });
    expect(p.runtimes.get(unit.id)!.health).toMatchObject({ events: { failed: 1, exited: 1 }, actions: { restart: 1, stop: 1 }, level: 'stop' });
    // The old field's decision adds no line to the exit's own; the table's says what it did.
    expect(healthLines(p, unit.id).map((l) => l.message)).toEqual([expect.stringMatching(/^health: process \d+ exited with code 0; stop$/)]);
  });
});
