import { isHostError, type HostError } from '../../src/host/index.js';

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
