import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [{ name: 'quiet', short: 'q', help: 'print nothing, only set the exit status' }];
export const OPERANDS: Operands = 'units';
export const USAGE = '[UNIT...]';
