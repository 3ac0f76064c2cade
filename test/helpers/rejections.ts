/** What a promise that must fail rejects with; a promise that resolves fails the test. */
import { ProblemError, type Problem } from '../../src/errors/problem.js';

export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** The first problem of the ProblemError a promise rejects with (any other rejection is rethrown). */
export async function firstProblem(p: Promise<unknown>): Promise<Problem> {
  const e = await rejection(p);
  if (e instanceof ProblemError) return e.problems[0]!;
  throw e;
}
