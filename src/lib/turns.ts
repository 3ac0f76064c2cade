/**
 * Synchronous work cut into steps, so that a long-running process's event loop turns between them.
 * A step function is written once as a generator (`yield` where a turn may come) and run either
 * whole (a command-line check: nothing else waits on the loop) or a few milliseconds at a time
 * (the daemon, whose loop also answers D-Bus calls and reaps tools).
 */

/** Synchronous work between two turns of the loop at most, about (a turn over 10 ms is too long). */
export const TURN_BUDGET_MS = 3;

/**
 * Calls `fn` once the event loop has turned: gone through its timers and its poll for I/O (D-Bus
 * calls, tools' exits). One setImmediate is not that: queued from an I/O callback (the poll phase,
 * where a file read or a message completes), it runs in the check phase of the same iteration,
 * with no timer and no I/O between, so the work before and after it is one turn (the bring-up's
 * first slice of parsing ran on from the unit files' reads: 9-10 ms of CPU in one turn). Queued
 * from there, a second one runs after the next iteration's timers and poll, whichever phase the
 * caller was in; an idle loop goes round twice in microseconds.
 */
export function afterTurn(fn: () => void): void {
  setImmediate(() => setImmediate(fn));
}

/** Resolves once the event loop has turned (afterTurn): timers, I/O and D-Bus calls waiting get their go first. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => afterTurn(resolve));
}

/** Runs every step now and returns the result. */
export function runSteps<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Runs the steps, letting the loop turn at a step boundary once `budgetMs` passed since it last
 * turned, and once more before it hands the result on: what the caller does with it (checking a
 * loaded set against the machine) then begins a turn of its own instead of adding to the last slice.
 */
export async function runStepsInTurns<T>(steps: Generator<void, T, void>, budgetMs = TURN_BUDGET_MS, now: () => number = () => performance.now()): Promise<T> {
  let since = now();
  for (;;) {
    const r = steps.next();
    if (r.done) {
      await nextTurn();
      return r.value;
    }
    if (now() - since >= budgetMs) {
      await nextTurn();
      since = now();
    }
  }
}
