/**
 * What the metrics show, taken from the engine in one go: per unit its state, automatic restarts,
 * health-monitor events, last bring-up time and, for a cell, its CPUs; the last reload; the
 * version. Pure apart from reading the source, so the renderer (render.ts) is tested on snapshots
 * written by hand.
 */
import type { ActiveState, DaemonStatus, UnitStatus, UsecTimestamp } from '../engine/manager-api.js';
import { HEALTH_EVENTS } from '../engine/health/table.js';

/** What the Manager offers the metrics besides ManagerApi (src/engine/manager.ts). */
export interface MetricsSource {
  daemon(): Pick<DaemonStatus, 'version'>;
  listUnits(): UnitStatus[];
  /** Automatic restarts of a unit (restart policy or health table), kept across daemon restarts. */
  restarts(id: string): number;
  /** The last reload of the unit files (the load at start included); undefined before the first. */
  lastReload(): { timestamp: UsecTimestamp; ok: boolean } | undefined;
}

export interface UnitMetrics {
  unit: string;
  /** Lower case, as the unit id's suffix spells it (`cell`). */
  kind: string;
  activeState: ActiveState;
  restarts: number;
  /** Events its health monitor raised, by event, every event the monitor knows included; none for a kind without one. */
  healthEvents?: ReadonlyArray<readonly [event: string, count: number]>;
  /** Seconds from leaving inactive (or failed) to active, of the last bring-up that reached active. */
  bringupSeconds?: number;
  /** How many CPUs the cell owns; none for a unit that is no cell. */
  cpus?: number;
}

export interface MetricsSnapshot {
  version: string;
  /** By unit id. */
  units: UnitMetrics[];
  reload?: { ok: boolean; timestampSeconds: number };
}

export function takeSnapshot(source: MetricsSource): MetricsSnapshot {
  const units = source
    .listUnits()
    .map((u) => unitMetrics(u, source.restarts(u.id)))
    .sort((a, b) => (a.unit < b.unit ? -1 : a.unit > b.unit ? 1 : 0));
  const reload = source.lastReload();
  return {
    version: source.daemon().version,
    units,
    ...(reload ? { reload: { ok: reload.ok, timestampSeconds: reload.timestamp / 1e6 } } : {}),
  };
}

export function unitMetrics(u: UnitStatus, restarts: number): UnitMetrics {
  const details = u.details as { healthEvents?: Record<string, number>; cpus?: unknown };
  // On the monotonic clock: a wall clock stepped meanwhile (NTP at boot on a board without an RTC) does not stretch it.
  const bringup = bringupSeconds(u.timestamps.monotonic.inactiveExit, u.timestamps.monotonic.activeEnter);
  return {
    unit: u.id,
    kind: u.kind.toLowerCase(),
    activeState: u.activeState,
    restarts,
    // The kinds whose view shows a health monitor carry its counts in their details (status.ts).
    ...(details.healthEvents ? { healthEvents: healthEvents(details.healthEvents) } : {}),
    ...(bringup !== undefined ? { bringupSeconds: bringup } : {}),
    // A cell's details list its CPUs (the Cell kind's view); no other kind's carry the field.
    ...(Array.isArray(details.cpus) ? { cpus: details.cpus.length } : {}),
  };
}

/**
 * The last activating → active, from the transition timestamps (µs, one clock): the unit left inactive at
 * `inactiveExit` and became active at `activeEnter`. None while a later bring-up runs (it left
 * inactive again after it was last active) or before the first. A unit adopted running went from
 * inactive to active in one step: 0.
 */
export function bringupSeconds(inactiveExit: UsecTimestamp, activeEnter: UsecTimestamp): number | undefined {
  if (inactiveExit === 0 || activeEnter === 0 || activeEnter < inactiveExit) return undefined;
  return (activeEnter - inactiveExit) / 1e6;
}

/** Every event the monitor knows, 0 where none was raised (a counter is there before its first increment), then any other. */
function healthEvents(counted: Readonly<Record<string, number>>): Array<readonly [string, number]> {
  const known: readonly string[] = HEALTH_EVENTS;
  const others = Object.keys(counted)
    .filter((e) => !known.includes(e))
    .sort();
  return [...known, ...others].map((e) => [e, counted[e] ?? 0] as const);
}
