/**
 * The health-monitor table, as partitioning kernels keep one (ARINC 653's partition HM table,
 * XtratuM's per-partition events): every event a unit can raise starts at a named level, and a
 * level is an action plus, optionally, an escalation: after `limit` actions of the level within
 * `window`, the unit's next event is handled by level `then`. An event may also name an action
 * directly: that is a level of its own, named by the action, that never escalates.
 *
 * Pure: resolving a unit's table, and deciding which level handles an event from the times the
 * levels acted before. The supervisor (../supervisor.ts) carries the decision out.
 */
import type { LivenessSpec } from './schema.js';

/** What a unit can raise; each kind takes those that apply to it (a Loader exits, a Cell has a `ready:` probe). */
/** `recovered`: the hypervisor brought a crashed partition back by itself (remoteproc's recovery); logged unless the table says more. */
export const HEALTH_EVENTS = ['failed', 'liveness', 'startFailed', 'readyTimeout', 'exited', 'recovered'] as const;
export type HealthEvent = (typeof HEALTH_EVENTS)[number];

/** Mildest first; each is documented in README.md (Cell, Loader). */
export const HEALTH_ACTIONS = ['ignore', 'log', 'reload', 'restart', 'stop', 'stop-dependents', 'restart-dependents', 'stop-hypervisor'] as const;
export type HealthAction = (typeof HEALTH_ACTIONS)[number];

export interface HealthLevel {
  action: HealthAction;
  /** With window and then: after this many actions of the level within window, the next event goes to then. */
  limit?: number;
  /** Milliseconds. */
  window?: number;
  then?: string;
}

/** A table as a unit file writes it under `health:` (after its schema). */
export interface DeclaredHealth {
  on: Partial<Record<HealthEvent, string>>;
  levels: Record<string, HealthLevel>;
}

/** Where an event starts; `legacy` when the old policy field decided it, as written (`onFailure: restart`). */
export interface HealthEntry {
  level: string;
  legacy?: string;
}

/** A unit's resolved table: an entry for each event its kind raises, and every level they can reach. */
export interface HealthTable {
  on: Partial<Record<HealthEvent, HealthEntry>>;
  levels: Record<string, HealthLevel>;
}

/** What an old policy field (a cell's onFailure, a loader's restart) says for one event. */
export interface LegacyDefault {
  action: HealthAction;
  /** The field as written, for the log lines that field always had. */
  legacy: string;
}

export function isHealthAction(name: string): name is HealthAction {
  return (HEALTH_ACTIONS as readonly string[]).includes(name);
}

/**
 * The table a unit runs by: the events its `health:` names start where it says; every other event
 * its kind raises keeps what the old policy field says (so a unit without `health:` behaves as
 * before). Actions named where a level is expected become levels of their own.
 */
export function resolveTable(declared: DeclaredHealth | undefined, defaults: Partial<Record<HealthEvent, LegacyDefault>>): HealthTable {
  const levels: Record<string, HealthLevel> = { ...(declared?.levels ?? {}) };
  const on: Partial<Record<HealthEvent, HealthEntry>> = {};
  const reach = (name: string): void => {
    if (levels[name] === undefined && isHealthAction(name)) levels[name] = { action: name };
  };
  for (const [event, d] of Object.entries(defaults) as [HealthEvent, LegacyDefault][]) {
    on[event] = { level: d.action, legacy: d.legacy };
    reach(d.action);
  }
  for (const [event, name] of Object.entries(declared?.on ?? {}) as [HealthEvent, string][]) {
    on[event] = { level: name };
    reach(name);
  }
  for (const level of Object.values(declared?.levels ?? {})) if (level.then !== undefined) reach(level.then);
  return { on, levels };
}

/** Which level handles an event, and what it does. */
export interface HealthDecision {
  event: HealthEvent;
  level: string;
  action: HealthAction;
  /** The old policy field that decided it, as written; undefined when the unit's `health:` did. */
  legacy?: string;
  /** For a level that escalates: this action's number among its actions within its window (1-based), its limit and window. */
  nth?: number;
  limit?: number;
  window?: number;
  /** The levels passed over because they had acted `limit` times within their window, in order. */
  passed: { level: string; limit: number; window: number }[];
}

/** When each level acted (ms since the epoch), as the unit's health record keeps it. */
export type ActionTimes = Readonly<Record<string, readonly number[]>>;

/**
 * The level that handles `event` at `now`: the event's own, or the first one up its `then` chain
 * that has not acted `limit` times within its window. Undefined for an event the table has no
 * entry for (a kind that does not raise it).
 */
export function decide(table: HealthTable, taken: ActionTimes, event: HealthEvent, now: number): HealthDecision | undefined {
  const entry = table.on[event];
  if (entry === undefined) return undefined;
  const passed: HealthDecision['passed'] = [];
  let name = entry.level;
  for (;;) {
    const level = table.levels[name] ?? { action: 'log' as const };
    const base = { event, level: name, action: level.action, ...(entry.legacy !== undefined && passed.length === 0 ? { legacy: entry.legacy } : {}), passed };
    if (level.limit === undefined || level.window === undefined || level.then === undefined) return base;
    const recent = within(taken[name], level.window, now).length;
    // A chain the schema refused as circular never gets here; were it to, it stops where it began again.
    if (recent < level.limit || passed.some((p) => p.level === level.then) || level.then === entry.level) {
      return { ...base, nth: Math.min(recent + 1, level.limit), limit: level.limit, window: level.window };
    }
    passed.push({ level: name, limit: level.limit, window: level.window });
    name = level.then;
  }
}

/** The times within `window` ms before `now`, oldest first. */
export function within(times: readonly number[] | undefined, window: number, now: number): number[] {
  return (times ?? []).filter((t) => now - t < window && t <= now);
}

/**
 * The `then` chains that come back to where they started, each once (as the levels in order, the
 * first repeated at the end): the schema refuses them, as they would escalate for ever.
 */
export function escalationCycles(levels: Readonly<Record<string, Pick<HealthLevel, 'then'>>>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  for (const start of Object.keys(levels)) {
    const path: string[] = [];
    let at: string | undefined = start;
    while (at !== undefined && levels[at] !== undefined && !done.has(at) && !path.includes(at)) {
      path.push(at);
      at = levels[at]!.then;
    }
    if (at !== undefined && path.includes(at)) cycles.push([...path.slice(path.indexOf(at)), at]);
    for (const p of path) done.add(p);
  }
  return cycles;
}

/** `60s`, `5min`, `1h 30min`, `1.5s`, `250ms`: a window or a period in log lines and status. */
export function durationText(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const [size, unit] of [[3_600_000, 'h'], [60_000, 'min']] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${Number((rest / 1000).toFixed(3))}s`);
  return parts.join(' ');
}

/**
 * What the decision does, for the unit's log: `level recover: reload (2 of 3 in 60s)`, and for an
 * escalation the limits that were reached, `level cold: restart (1 of 2 in 5min; recover acted 3
 * times in 60s)`.
 */
export function describeDecision(d: HealthDecision): string {
  const notes: string[] = [];
  if (d.nth !== undefined && d.limit !== undefined && d.window !== undefined) notes.push(`${d.nth} of ${d.limit} in ${durationText(d.window)}`);
  for (const p of d.passed) notes.push(`${p.level} acted ${p.limit} time${p.limit === 1 ? '' : 's'} in ${durationText(p.window)}`);
  const level = d.level === d.action ? d.action : `level ${d.level}: ${d.action}`;
  return notes.length > 0 ? `${level} (${notes.join('; ')})` : level;
}

/** A unit's health monitor as its kind gives it (KindBehaviour.health). */
export interface UnitHealth {
  table: HealthTable;
  liveness?: LivenessSpec;
  /** Environment of an exec liveness check besides PATH (a loader's own variables). */
  env?: Record<string, string>;
  /** The unit that stop-hypervisor stops (a cell's hypervisor). */
  hypervisor?: string;
}
