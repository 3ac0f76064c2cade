/**
 * Synchronous work cut into steps, so that a long-running process's event loop turns between them.
 * A step function is written once as a generator (`yield` where a turn may come) and run either
 * whole (a command-line check: nothing else waits on the loop) or a few milliseconds at a time
 * (the daemon, whose loop also answers D-Bus calls and reaps tools).
 */

/** Synchronous work between two turns of the loop at most, about (a turn over 10 ms is too long). */
export const TURN_BUDGET_MS = 3;

/** Resolves once the event loop has turned: timers, I/O and D-Bus calls waiting get their go first. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs every step now and returns the result. */
export function runSteps<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs the steps, letting the loop turn at a step boundary once `budgetMs` passed since it last turned. */
export async function runStepsInTurns<T>(steps: Generator<void, T, void>, budgetMs = TURN_BUDGET_MS, now: () => number = () => performance.now()): Promise<T> {
  let since = now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (now() - since >= budgetMs) {
      await nextTurn();
      since = now();
    }
  }
}
