/** What a crtosctl verb gets from the entry point: its arguments and the process's streams. */
import type { Readable, Writable } from 'node:stream';
export type { ExitKind } from './exit-codes.js';

export interface CliContext {
  /** Arguments after the verb. */
  args: string[];
  /**
   * For a question to the person at the terminal (`crtosctl edit`'s "Edit again?"); none: no one to
   * ask. A function: process.stdin is made only when a verb asks (not at every crtosctl start-up).
   */
  stdin?: () => Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Colour and state glyphs only on a terminal (and never with NO_COLOR). */
  color: boolean;
  /** Trees in box-drawing glyphs, else ASCII: by the locale, on a terminal or not, as systemd draws them. */
  utf8: boolean;
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
