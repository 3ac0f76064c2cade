/**
 * Work over many units spread across event-loop turns. The engine shares its loop with the D-Bus
 * service and with every tool's exit: describing a set of a hundred units, or staging thirty cells
 * (each image read and hashed), done all at once runs every unit's synchronous part in the one
 * turn where their reads complete. Taken one unit after another, the loop turns whenever a few
 * milliseconds of it have run, so a caller waits for a slice, never for the whole set.
 */

import { TURN_BUDGET_MS, afterTurn, nextTurn } from '../lib/turns.js';

/**
 * Runs `each` for the items one after another (each awaited), letting the loop turn before an item
 * once `budgetMs` has passed since it last turned. Rejects with the first item's error, as a loop would.
 */
export async function inTurns<T>(items: Iterable<T>, each: (item: T) => Promise<void> | void, budgetMs = TURN_BUDGET_MS, now: () => number = () => performance.now()): Promise<void> {
  let since = now();
  for (const item of items) {
    if (now() - since >= budgetMs) {
      await nextTurn();
      since = now();
    }
    await each(item);
  }
}

/**
 * Hands out the event loop's turns to work that comes in bursts (a dozen jobs launched at once,
 * each starting a process: a fork and exec the loop waits for, a few ms each on a busy machine).
 * A caller goes on at once while the current turn has used less than the budget since the gate
 * first let someone through in it; past that, callers wait and are let through one per later
 * turn, in order, so the loop turns between them.
 */
export class TurnGate {
  /** When the gate first let a caller through in the current turn; undefined once the loop turned. */
  private sliceStart: number | undefined;
  private readonly waiting: Array<() => void> = [];
  private releasing = false;

  constructor(
    private readonly budgetMs = TURN_BUDGET_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Resolves when the caller may go on. */
  turn(): Promise<void> {
    if (this.waiting.length === 0 && this.open()) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.release();
    });
  }

  private open(): boolean {
    const now = this.now();
    if (this.sliceStart === undefined) {
      this.sliceStart = now;
      // The loop's next turn ends this slice (afterTurn: a check phase of the same iteration would not).
      afterTurn(() => (this.sliceStart = undefined));
      return true;
    }
    return now - this.sliceStart < this.budgetMs;
  }

  /** Lets the first waiter through in a later turn, then the next one a turn after, until none waits. */
  private release(): void {
    if (this.releasing) return;
    this.releasing = true;
    afterTurn(() => {
      this.releasing = false;
      const next = this.waiting.shift();
      if (!next) return;
      this.sliceStart = this.now();
      afterTurn(() => (this.sliceStart = undefined));
      next();
      if (this.waiting.length > 0) this.release();
    });
  }
}
