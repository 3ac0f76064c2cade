/**
 * Supervision arithmetic, systemd style: a start limit (at most `burst` starts within `interval`)
 * and a restart delay that starts at restartSec and doubles per restart up to restartMaxSec. Pure:
 * the caller passes the clock.
 */
export interface StartLimit {
  burst: number;
  interval: number;
}

export class StartHistory {
  private starts: number[] = [];
  /** Consecutive automatic restarts, for the back-off; reset by resetBackoff(). */
  private restarts = 0;

  /** Records a start at `now`; false when it exceeds the limit (the start must not happen). */
  tryStart(now: number, limit: StartLimit): boolean {
    if (limit.interval > 0) this.starts = this.starts.filter((t) => now - t < limit.interval);
    // A quiet window ends the back-off: the next failure starts again at restartSec.
    if (this.starts.length === 0) this.restarts = 0;
    if (this.starts.length >= limit.burst) return false;
    this.starts.push(now);
    return true;
  }

  /** Would a start at `now` be allowed? */
  allowed(now: number, limit: StartLimit): boolean {
    const recent = limit.interval > 0 ? this.starts.filter((t) => now - t < limit.interval) : this.starts;
    return recent.length < limit.burst;
  }

  /** The delay before the next automatic restart, and counts it. */
  nextDelay(restartSec: number, restartMaxSec: number): number {
    const delay = Math.min(restartSec * 2 ** this.restarts, Math.max(restartSec, restartMaxSec));
    this.restarts++;
    return delay;
  }

  get restartCount(): number {
    return this.restarts;
  }

  resetBackoff(): void {
    this.restarts = 0;
  }

  reset(): void {
    this.starts = [];
    this.restarts = 0;
  }
}

export type LoaderRestartPolicy = 'no' | 'on-failure' | 'always';

/** systemd's table for the policies we offer: clean = exit 0 or SIGHUP/SIGINT/SIGTERM/SIGPIPE. */
export function shouldRestart(policy: LoaderRestartPolicy, exit: { code: number | null; signal: string | null }): boolean {
  if (policy === 'always') return true;
  if (policy === 'no') return false;
  return !isCleanExit(exit);
}

export function isCleanExit(exit: { code: number | null; signal: string | null }): boolean {
  if (exit.signal !== null) return ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'].includes(exit.signal);
  // A non-child process's status is unknown (code and signal null): count it as a failure.
  return exit.code === 0;
}
