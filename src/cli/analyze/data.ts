/**
 * What `crtosctl analyze` works from, read once from crtosd: each unit's transition times on
 * CLOCK_MONOTONIC (µs) and its dependencies, and the operations of each unit's last bring-up.
 * The renderers (plot, dot, critical-chain, blame) are pure functions of it.
 */
import type { TimelineOperation, UnitStatus } from '../../engine/manager-api.js';

/** A unit's times as systemd-analyze's UnitTimes: µs since boot, 0 = never. */
export interface UnitTimes {
  id: string;
  kind: string;
  activeState: string;
  activating: number;
  activated: number;
  deactivating: number;
  deactivated: number;
  /** How long its activation took: to active, or to failing on its way up; 0 when not known (still activating, never started). */
  time: number;
  requires: string[];
  wants: string[];
  after: string[];
}

export interface BootData {
  units: UnitTimes[];
  operations: TimelineOperation[];
  /** When the data was read (µs since boot): where a bar still activating ends. */
  now: number;
  /** The realtime (µs since the epoch) of `origin`, for the plot's title; 0 when unknown. */
  originRealtime: number;
}

export function unitTimes(s: UnitStatus): UnitTimes {
  const m = s.timestamps.monotonic;
  return {
    id: s.id,
    kind: s.kind.toLowerCase(),
    activeState: s.activeState,
    activating: m.inactiveExit,
    activated: m.activeEnter,
    deactivating: m.activeExit,
    deactivated: m.inactiveEnter,
    time: activationTime(m.inactiveExit, m.activeEnter, m.inactiveEnter),
    requires: [...s.requires],
    wants: [...s.wants],
    after: [...s.after],
  };
}

/** systemd-analyze's rule: to active when it got there after activating, else to inactive (it failed), else unknown. */
function activationTime(activating: number, activated: number, deactivated: number): number {
  if (activating === 0) return 0;
  if (activated >= activating) return activated - activating;
  if (deactivated >= activating) return deactivated - activating;
  return 0;
}

/** The start of the bring-up: the first unit leaving inactive (0 when none ever did). */
export function originOf(units: readonly UnitTimes[]): number {
  const starts = units.map((u) => u.activating).filter((t) => t > 0);
  return starts.length === 0 ? 0 : Math.min(...starts);
}

/** The realtime of the bring-up's start, from the unit that started it (both of its clocks). */
export function originRealtimeOf(statuses: readonly UnitStatus[]): number {
  const first = statuses.filter((s) => s.timestamps.monotonic.inactiveExit > 0).sort((a, b) => a.timestamps.monotonic.inactiveExit - b.timestamps.monotonic.inactiveExit)[0];
  return first?.timestamps.inactiveExit ?? 0;
}

/** Where a unit's bar ends: active, failed, or (still activating) now; undefined for a unit never started. */
export function barEnd(u: UnitTimes, now: number): number | undefined {
  if (u.activating === 0) return undefined;
  if (u.activated >= u.activating) return u.activated;
  if (u.deactivated >= u.activating) return u.deactivated;
  return now;
}

/** Whether the unit's last activation ended in failure (its bar ends at the failure). */
export const failedUp = (u: UnitTimes): boolean => u.activating > 0 && u.activated < u.activating && u.deactivated >= u.activating;
