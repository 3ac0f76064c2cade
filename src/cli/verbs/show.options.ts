import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'property', short: 'p', value: true, help: 'show only these properties (comma-separated)' },
  { name: 'value', help: 'print the values only, without KEY=' },
];
export const OPERANDS: Operands = 'units';
export const USAGE = '[UNIT...]';
