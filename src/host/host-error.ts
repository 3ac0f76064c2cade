/**
 * The typed error every Host operation rejects with. It is data first (op, errno, exit code,
 * stderr, argv, a HOST_* code), so the engine can decide on EBUSY vs EINVAL without parsing text.
 */
import type { ErrnoName } from './errno.js';
import type { ProblemCode } from '../errors/codes.js';
import { problem, type Problem } from '../errors/problem.js';

export type HostErrorCode = Extract<ProblemCode, `HOST_${string}`>;

export interface HostErrorFields {
  code: HostErrorCode;
  /** The Host operation, e.g. `createCell`, `loadModule`. */
  op: string;
  message: string;
  errno?: ErrnoName | undefined;
  exitCode?: number | null | undefined;
  signal?: string | null | undefined;
  stderr?: string | undefined;
  argv?: string[] | undefined;
  hint?: string | undefined;
}

export class HostError extends Error {
  readonly code: HostErrorCode;
  readonly op: string;
  readonly errno: ErrnoName | undefined;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderr: string;
  readonly argv: string[];
  readonly hint: string | undefined;

  constructor(fields: HostErrorFields) {
    super(fields.message);
    this.name = 'HostError';
    this.code = fields.code;
    this.op = fields.op;
    this.errno = fields.errno;
    this.exitCode = fields.exitCode ?? null;
    this.signal = fields.signal ?? null;
    this.stderr = fields.stderr ?? '';
    this.argv = fields.argv ?? [];
    this.hint = fields.hint;
  }

  /** The same failure as a Problem, for lists rendered to the user. */
  toProblem(extra: { unit?: string } = {}): Problem {
    return problem(this.code, this.message, { ...extra, ...(this.hint === undefined ? {} : { hint: this.hint }) });
  }
}

export function isHostError(e: unknown): e is HostError {
  return e instanceof HostError;
}
