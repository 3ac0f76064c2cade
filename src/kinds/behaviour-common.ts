/** Helpers shared by the kind behaviours. */
import { ProblemError, problem } from '../errors/problem.js';
import { isHostError } from '../host/host-error.js';
import type { ProblemCode } from '../errors/codes.js';

/** Poll `check` every `intervalMs` until it is true or `timeoutMs` passed. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs: number, sleep: (ms: number) => Promise<void>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

export function fail(code: ProblemCode, unit: string, message: string, hint?: string): never {
  throw new ProblemError(problem(code, message, hint === undefined ? { unit } : { unit, hint }));
}

/** Runs a host operation; a HostError becomes a ProblemError naming the unit and the operation. */
export async function hostStep<T>(unit: string, what: string, p: Promise<T>, code: ProblemCode = 'ENGINE_START_FAILED'): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (isHostError(e)) {
      throw new ProblemError(problem(code, `${what} failed: ${e.message}${e.stderr && !e.message.includes(e.stderr.trim()) ? ` (${e.stderr.trim()})` : ''}`, { unit, ...(e.hint ? { hint: e.hint } : {}) }));
    }
    throw e;
  }
}

/** True when the error is a host error with one of these errnos (an operation already done). */
export function isErrno(e: unknown, ...names: string[]): boolean {
  return isHostError(e) && e.errno !== undefined && names.includes(e.errno);
}

/**
 * A job failed while staging, before it changed anything on the machine (an image that does not
 * verify, a configuration that cannot be placed): there is nothing to clean up, and what runs
 * keeps running as it was.
 */
export class StagingError extends ProblemError {}

/** Runs the part of a job that touches nothing; its failure is a StagingError. */
export async function staged<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof ProblemError && !(e instanceof StagingError)) throw new StagingError(e.problems);
    throw e;
  }
}

/**
 * The hypervisor refused the new instance after the old one was taken down, and the old one was
 * put back: the unit runs as before; the problems say what was refused and that it was undone.
 */
export class RolledBackError extends ProblemError {}
