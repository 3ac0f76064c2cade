import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [{ name: 'no-legend', help: 'omit the header and the footer' }];
export const OPERANDS: Operands = 'units';
export const USAGE = '[PATTERN...]';
