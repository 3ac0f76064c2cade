/**
 * Method calls handled in slices: a burst of calls (a crowd of `crtosctl status` asking at once,
 * hundreds of messages read in one chunk from the bus socket) is taken a few milliseconds' worth
 * at a time, the event loop turning in between. The engine shares that loop: a tool's exit or the
 * next job of a bring-up then waits for one slice, never for the whole burst. Calls keep their
 * order; each is handled whole within one slice.
 */
import { TURN_BUDGET_MS, afterTurn } from '../lib/turns.js';

export class CallSlices {
  private readonly queue: Array<() => void> = [];
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly budgetMs = TURN_BUDGET_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Queues a call's handling; it runs in the next slice, after the calls queued before it. */
  push(handle: () => void): void {
    if (this.stopped) return;
    this.queue.push(handle);
    if (!this.scheduled) {
      this.scheduled = true;
      // After the loop turned (afterTurn): pushed from the socket's I/O callback, one setImmediate
      // ran the first slice in the same iteration, on top of whatever that iteration had done.
      afterTurn(() => this.run());
    }
  }

  /** Drops the calls not handled yet (the service detached: no reply could be sent). */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  /** Calls queued and not yet handled. */
  get pending(): number {
    return this.queue.length;
  }

  private run(): void {
    const until = this.now() + this.budgetMs;
    try {
      do this.queue.shift()?.();
      while (this.queue.length > 0 && this.now() < until);
    } finally {
      if (this.queue.length > 0) afterTurn(() => this.run());
      else this.scheduled = false;
    }
  }
}
