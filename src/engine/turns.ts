/**
 * Work over many units spread across event-loop turns. The engine shares its loop with the D-Bus
 * service and with every tool's exit: describing a set of a hundred units, or staging thirty cells
 * (each image read and hashed), done all at once runs every unit's synchronous part in the one
 * turn where their reads complete. Taken one unit after another, the loop turns whenever a few
 * milliseconds of it have run, so a caller waits for a slice, never for the whole set.
 */

/** Synchronous work between two turns of the loop at most, about (a turn over 10 ms is too long). */
export const TURN_BUDGET_MS = 3;

/** Resolves once the event loop has turned: timers, I/O and D-Bus calls waiting get their go first. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

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
