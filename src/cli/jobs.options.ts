/** start, stop and restart's options (one flow, ./jobs.ts). */
import type { OptionSpec, Operands } from './options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'no-block', help: 'queue the jobs and return without waiting for them' },
  { name: 'timeout', value: true, help: 'give up waiting after this many seconds (default: wait)' },
];

export const OPERANDS: Operands = 'units';
