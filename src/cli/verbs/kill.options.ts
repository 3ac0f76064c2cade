import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'signal', short: 's', value: true, complete: 'signals', help: 'the signal to send, by name (SIGTERM, TERM) or number (default SIGTERM)' },
  { name: 'kill-whom', value: true, complete: ['main', 'all'], help: 'main: only the main process; all: every process of its group (default)' },
];
export const OPERANDS: Operands = 'units';
export const USAGE = 'UNIT...';
