/**
 * GetLog's answer (`crtosctl logs`): the lines of some units, or of every unit and the daemon-wide
 * lines, merged in time order, from a time on, the last N of them. Pure: the lines are passed in.
 *
 * Equal times keep the order they are given in (the daemon's lines, then each unit's in order of
 * the ids asked for), and a unit's lines are appended in time order: a client following with
 * `since` = the last time it printed gets the lines of that time again, in the same order, and
 * skips those it has (crtosctl's logs verb does).
 */
import type { LogLine } from '../engine/manager-api.js';

export interface LogQuery {
  /** Lines of each unit, oldest first. */
  units: ReadonlyArray<readonly LogLine[]>;
  /** Daemon-wide lines (none asked for when units were named). */
  daemon: readonly LogLine[];
  /** Only lines at or after this time (µs since the epoch); 0: all. */
  since: number;
  /** At most this many, the newest; 0: all. */
  lines: number;
}

export function selectLog(q: LogQuery): LogLine[] {
  const all = [q.daemon, ...q.units].flatMap((lines) => lines.filter((l) => l.time >= q.since));
  // Array.prototype.sort is stable: equal times keep the order above.
  all.sort((a, b) => a.time - b.time);
  return q.lines > 0 ? all.slice(-q.lines) : all;
}
