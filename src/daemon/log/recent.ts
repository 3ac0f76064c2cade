/**
 * The daemon-wide log lines (records naming no unit) crtosd keeps in memory for `crtosctl logs`
 * without a unit; units' lines are kept by the engine per unit (GetUnitLog). Lost on a restart,
 * as the journal is where the whole history lives.
 */
import type { LogLine } from '../../engine/manager-api.js';

export const RECENT_DAEMON_LINES = 500;

export class RecentLines {
  private readonly lines: LogLine[] = [];

  constructor(private readonly capacity = RECENT_DAEMON_LINES) {}

  push(line: LogLine): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  /** Oldest first. */
  all(): LogLine[] {
    return [...this.lines];
  }
}
