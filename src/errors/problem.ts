/**
 * Errors are data: every failure the user can cause or the machine can produce is a Problem with a
 * stable code, collected in lists and rendered in one place (src/errors/render.ts). Code throws a
 * ProblemError only to cross a boundary that cannot return a value; entry points catch it and map
 * it to an exit code (src/cli/exit-codes.ts).
 */
import type { ProblemCode } from './codes.js';

export type Severity = 'error' | 'warning';

export interface Problem {
  /** Stable identifier from the registry in src/errors/codes.ts. */
  code: ProblemCode;
  /** What is wrong, one sentence, no trailing period. */
  message: string;
  severity?: Severity;
  /** File the problem is in (as the user named it), when it comes from a file. */
  file?: string;
  /** 1-based line and column in `file`. */
  line?: number;
  column?: number;
  /** Byte offset, for problems in binary files (.cell configurations). */
  offset?: number;
  /** Unit id (`nuttx.cell`) the problem belongs to. */
  unit?: string;
  /** How to fix it. */
  hint?: string;
}

/** Carries problems across a boundary that can only throw (a Promise rejection, a callback). */
export class ProblemError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem | Problem[]) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.map((p) => `${p.code}: ${p.message}`).join('\n'));
    this.name = 'ProblemError';
    this.problems = list;
  }
}

export function problem(code: ProblemCode, message: string, extra: Omit<Problem, 'code' | 'message'> = {}): Problem {
  return { code, message, ...extra };
}

export function isProblemError(e: unknown): e is ProblemError {
  return e instanceof ProblemError;
}

/** A problem without a severity is an error. */
export function isError(p: Problem): boolean {
  return (p.severity ?? 'error') === 'error';
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some(isError);
}
