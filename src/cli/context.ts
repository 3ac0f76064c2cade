/** What a crtosctl verb gets from the entry point: its arguments and the process's streams. */
import type { Writable } from 'node:stream';
export type { ExitKind } from './exit-codes.js';

export interface CliContext {
  /** Arguments after the verb. */
  args: string[];
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Colour and glyphs only on a terminal (and never with NO_COLOR). */
  color: boolean;
  /** Working directory relative paths resolve against. */
  cwd: string;
}

/** Thrown by a verb for bad usage; the entry point prints it with the usage line and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
