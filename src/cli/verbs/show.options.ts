import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'property', short: 'p', value: true, help: 'show only these properties (comma-separated; repeatable)' },
  { name: 'value', help: 'print the values only, without KEY=' },
  { name: 'timestamp', value: true, complete: ['us', 'us+utc', 'pretty', 'utc', 'unix'], help: 'how timestamps print: us (default: to the microsecond), us+utc, pretty (to the second), utc, unix (@seconds)' },
];
export const OPERANDS: Operands = 'units';
export const USAGE = '[UNIT...]';
