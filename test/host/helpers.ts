import { isHostError, type HostError } from '../../src/host/index.js';
import { every, until } from '../helpers/wait-for.js';

/** The HostError a host operation rejects with; fails the test when it resolves or throws otherwise. */
export async function hostError(p: Promise<unknown>): Promise<HostError> {
  try {
    await p;
  } catch (e) {
    if (isHostError(e)) return e;
    throw e;
  }
  throw new Error('expected a HostError');
}

/**
 * Waits for what only /proc or a socket shows (a process gone, a process group's members, an
 * endpoint that accepts): nothing announces it, so the check runs on each tick.
 */
export function untilSeen(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  return until(what, check, { sources: [every(10)], timeoutMs });
}
