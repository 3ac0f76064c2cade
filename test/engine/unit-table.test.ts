/**
 * The unit table (src/engine/unit-table.ts) on its own, with the cRTOS example as a hand-made set:
 * what it announces and when, a new set put in force, the targets a pass acts on, requests taken
 * once, and the log ring.
 */
import { describe as suite, expect, test } from 'vitest';
import { UnitTable } from '../../src/engine/unit-table.js';
import { memoryStateStore } from '../../src/engine/state-file.js';
import type { ManagerEvents } from '../../src/engine/manager-api.js';
import { describe, exampleFiles, observedAll, setFrom } from './plan-fixtures.js';

type Event = { [E in keyof ManagerEvents]: [E, ...ManagerEvents[E]] }[keyof ManagerEvents];

function table() {
  const events: Event[] = [];
  const t = new UnitTable(memoryStateStore(), { emit: (...e) => void events.push(e as unknown as Event) });
  const named = (name: keyof ManagerEvents) => events.filter((e) => e[0] === name);
  return { t, events, named };
}

const set = setFrom(exampleFiles());
const descriptions = describe(set);

suite('UnitTable', () => {
  test('a set put in force: every unit gets a runtime (unitNew) and is announced once; an unchanged status is not announced again', () => {
    const { t, named } = table();
    t.install(set, descriptions, () => undefined);
    expect(named('unitNew').map((e) => e[1]).sort()).toEqual([...set.units.keys()].sort());
    expect(named('unitChanged')).toHaveLength(set.units.size);
    expect(t.ids().sort()).toEqual([...set.units.keys()].sort());
    const [id] = set.units.keys();
    t.announce(id!);
    expect(named('unitChanged')).toHaveLength(set.units.size);
    t.runtime(id!).subState = 'changed';
    t.announce(id!);
    expect(named('unitChanged')).toHaveLength(set.units.size + 1);
    expect(t.status(id!)?.subState).toBe('changed');
  });

  test('an edited unit is a new unit: a failure hold is lifted and its restart cancelled; a manual stop stays; a unit gone and not recorded is removed', () => {
    const { t, named } = table();
    t.install(set, descriptions, () => undefined);
    const [failed, stopped, gone] = [...set.units.keys()];
    t.holds.set(failed!, { reason: 'restart-pending' });
    t.holds.set(stopped!, { reason: 'stopped' });
    t.fail(failed!, { code: 'ENGINE_START_FAILED', message: 'no' });
    const edited = describe(set, { [failed!]: { exec: 'other' }, [stopped!]: { exec: 'other' } });
    edited.delete(gone!);
    const smaller = { ...set, units: new Map([...set.units].filter(([id]) => id !== gone)) };
    const cancelled: string[] = [];
    t.install(smaller, edited, (id) => cancelled.push(id));
    expect(cancelled).toEqual([failed]);
    expect(t.holds.has(failed!)).toBe(false);
    expect(t.status(failed!)).toMatchObject({ result: 'success' });
    expect(t.status(failed!)?.lastError).toBeUndefined();
    expect(t.holds.get(stopped!)).toEqual({ reason: 'stopped' });
    expect(named('unitRemoved').map((e) => e[1])).toEqual([gone]);
    expect(t.ids()).not.toContain(gone);
  });

  test('targets: the set with facts (the record over the description), then the recorded units the set no longer has', () => {
    const { t } = table();
    t.install(set, descriptions, () => undefined);
    const cell = [...set.units.values()].find((u) => descriptions.get(u.id)!.facts.cellName !== undefined)!;
    const desc = descriptions.get(cell.id)!;
    t.records.write(cell, set, desc, { ...desc.facts, pid: 7 }, 'active');
    const removed = { ...set, units: new Map([...set.units].filter(([id]) => id !== cell.id)) };
    const targets = t.targets();
    expect(targets.find((x) => x.id === cell.id)).toMatchObject({ unit: cell, facts: { cellName: cell.name, pid: 7 } });
    const previewed = t.targets(removed, descriptions);
    expect(previewed.at(-1)).toEqual({ id: cell.id, kind: cell.kind, facts: { cellName: cell.name, pid: 7 } });
    expect(previewed).toHaveLength(set.units.size);
  });

  test('restarts and reloads asked for are taken once; a stop drops them; a release lifts the holds of what the unit requires', () => {
    const { t } = table();
    t.install(set, descriptions, () => undefined);
    const withReq = [...set.units.keys()].find((id) => (set.deps.get(id)?.requires.length ?? 0) > 0)!;
    const required = set.deps.get(withReq)!.requires[0]!;
    t.requestRestart(withReq);
    t.requestReload(required, 'why');
    expect(t.takeRequests()).toEqual({ restarts: new Set([withReq]), reloads: new Map([[required, 'why']]) });
    expect(t.takeRequests()).toEqual({ restarts: new Set(), reloads: new Map() });
    t.requestRestart(withReq);
    t.stop(withReq);
    expect(t.takeRequests().restarts.size).toBe(0);
    t.holds.set(required, { reason: 'failed', digest: 'x' });
    t.release(withReq);
    expect(t.holds.has(withReq)).toBe(false);
    expect(t.holds.has(required)).toBe(false);
  });

  test('refresh: what the machine shows becomes the state observers see, a unit a requirement blocks is failed with dependency', () => {
    const { t } = table();
    t.install(set, descriptions, () => undefined);
    const withReq = [...set.units.keys()].find((id) => (set.deps.get(id)?.requires.length ?? 0) > 0)!;
    t.refresh(observedAll(set, 'active'), new Map());
    expect(t.statuses().every((s) => s.activeState === 'active')).toBe(true);
    t.refresh(observedAll(set, 'inactive'), new Map([[withReq, 'x.driver']]));
    expect(t.status(withReq)).toMatchObject({ activeState: 'failed', result: 'dependency', lastError: { code: 'ENGINE_DEPENDENCY' } });
    expect(t.anyFailed()).toBe(true);
  });

  test('the log ring keeps a unit’s last 200 lines; every line goes out; a unit never seen has no runtime', () => {
    const { t, named } = table();
    t.install(set, descriptions, () => undefined);
    const [id] = set.units.keys();
    for (let i = 0; i < 250; i++) t.log('info', id, `line ${i}`);
    expect(t.unitLog(id!, 0)).toHaveLength(200);
    expect(t.unitLog(id!, 2).map((l) => l.message)).toEqual(['line 248', 'line 249']);
    expect(named('log')).toHaveLength(250);
    expect(() => t.runtime('nothing.driver')).toThrow(/neither in the unit set nor recorded/);
  });
});
