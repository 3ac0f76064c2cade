import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [{ name: 'lines', short: 'n', value: true, help: 'how many log lines to show per unit (default 10)' }];
export const OPERANDS: Operands = 'units';
export const USAGE = '[UNIT...]';
