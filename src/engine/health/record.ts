/**
 * What the health monitor keeps of each unit, and shows: how many events of each kind it raised,
 * how many actions of each kind they led to, the level the last one was handled at, the last
 * event itself, and when each escalating level acted (so escalation counts its window across a
 * daemon restart too). Kept on the unit's runtime and saved with its history (../history.ts).
 */
import type { HealthAction, HealthDecision, HealthEvent, HealthTable } from './table.js';
import { within } from './table.js';

export interface HealthRecord {
  events: Partial<Record<HealthEvent, number>>;
  actions: Partial<Record<HealthAction, number>>;
  /** The level the last event was handled at; '' before the first. */
  level: string;
  last?: {
    /** µs since the epoch, as the other timestamps on the bus. */
    time: number;
    event: HealthEvent;
    level: string;
    action: HealthAction;
    why: string;
  };
  /** By escalating level, when it acted within its window (ms since the epoch). */
  taken: Record<string, number[]>;
}

export function emptyHealthRecord(): HealthRecord {
  return { events: {}, actions: {}, level: '', taken: {} };
}

/**
 * The record after `decision` was taken at `now` (ms) for an event described by `why`. A new
 * object: the runtime's announcement compares what it last sent.
 */
export function recordDecision(before: HealthRecord | undefined, table: HealthTable, decision: HealthDecision, why: string, now: number): HealthRecord {
  const r = before ?? emptyHealthRecord();
  const taken: Record<string, number[]> = {};
  // Only escalating levels keep times, and only those still within their window.
  for (const [name, times] of Object.entries(r.taken)) {
    const window = table.levels[name]?.window;
    if (window !== undefined) {
      const kept = within(times, window, now);
      if (kept.length > 0) taken[name] = kept;
    }
  }
  if (decision.window !== undefined) taken[decision.level] = [...(taken[decision.level] ?? []), now];
  return {
    events: { ...r.events, [decision.event]: (r.events[decision.event] ?? 0) + 1 },
    actions: { ...r.actions, [decision.action]: (r.actions[decision.action] ?? 0) + 1 },
    level: decision.level,
    last: { time: now * 1000, event: decision.event, level: decision.level, action: decision.action, why },
    taken,
  };
}
