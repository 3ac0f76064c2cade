import { describe, expect, test } from 'vitest';
import { bringupSeconds, takeSnapshot, unitMetrics, type MetricsSource } from '../../src/metrics/snapshot.js';
import type { UnitStatus } from '../../src/engine/manager-api.js';

/** The fields of a status the metrics read (transition times on the monotonic clock); the rest do not matter here. */
function status(id: string, kind: string, activeState: UnitStatus['activeState'], extra: { inactiveExit?: number; activeEnter?: number; details?: Record<string, unknown> } = {}): UnitStatus {
  return {
    id,
    kind,
    activeState,
    // The wall clock says otherwise (stepped during the bring-up): durations come from the monotonic one.
    timestamps: {
      stateChange: 0, inactiveExit: 1, activeEnter: 9e15, activeExit: 0, inactiveEnter: 0,
      monotonic: { stateChange: 0, inactiveExit: extra.inactiveExit ?? 0, activeEnter: extra.activeEnter ?? 0, activeExit: 0, inactiveEnter: 0 },
    },
    details: { kind, ...extra.details },
  } as unknown as UnitStatus;
}

describe('what the metrics take from the engine', () => {
  test('the last bring-up: from leaving inactive to active, none before one or while a later one runs', () => {
    expect(bringupSeconds(1_000_000, 3_500_000)).toBe(2.5);
    expect(bringupSeconds(7_000_000, 7_000_000)).toBe(0);
    expect(bringupSeconds(0, 0)).toBeUndefined();
    expect(bringupSeconds(9_000_000, 3_500_000)).toBeUndefined();
  });

  test('a cell: its CPUs counted, every health event with 0 for those not raised, the kind in lower case', () => {
    const u = status('nuttx.cell', 'Cell', 'active', { inactiveExit: 1_000_000, activeEnter: 1_250_000, details: { cpus: [2, 3], healthEvents: { failed: 1 } } });
    expect(unitMetrics(u, 3)).toEqual({
      unit: 'nuttx.cell',
      kind: 'cell',
      activeState: 'active',
      restarts: 3,
      healthEvents: [
        ['failed', 1],
        ['liveness', 0],
        ['startFailed', 0],
        ['readyTimeout', 0],
        ['exited', 0],
        ['recovered', 0],
      ],
      bringupSeconds: 0.25,
      cpus: 2,
    });
  });

  test('a unit without a health monitor or CPUs has neither', () => {
    expect(unitMetrics(status('shadow.driver', 'Driver', 'inactive'), 0)).toEqual({ unit: 'shadow.driver', kind: 'driver', activeState: 'inactive', restarts: 0 });
  });

  test('units by id, restarts and the last reload from the source, seconds from µs', () => {
    const source: MetricsSource = {
      daemon: () => ({ version: '9.9' }),
      listUnits: () => [status('b.loader', 'Loader', 'active'), status('a.driver', 'Driver', 'active')],
      restarts: (id) => (id === 'b.loader' ? 4 : 0),
      lastReload: () => ({ timestamp: 1_764_493_200_250_000, ok: false }),
    };
    const s = takeSnapshot(source);
    expect(s.version).toBe('9.9');
    expect(s.units.map((u) => [u.unit, u.restarts])).toEqual([
      ['a.driver', 0],
      ['b.loader', 4],
    ]);
    expect(s.reload).toEqual({ ok: false, timestampSeconds: 1764493200.25 });
    expect(takeSnapshot({ ...source, lastReload: () => undefined }).reload).toBeUndefined();
  });
});
