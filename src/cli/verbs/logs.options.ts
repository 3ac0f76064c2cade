import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'follow', short: 'f', help: 'print new lines as they come (Ctrl-C ends); carries on across a crtosd restart' },
  { name: 'lines', short: 'n', value: true, help: 'the last N lines (default: all kept; 10 with --follow)' },
  { name: 'since', short: 'S', value: true, help: "from TIME on: 'YYYY-MM-DD HH:MM:SS', 'HH:MM', '-5min', '5 min ago', 'today', 'yesterday', '@SECONDS'" },
];
export const OPERANDS: Operands = 'units';
/** Units are optional: without one, every unit's lines and crtosd's own. */
export const USAGE = '[UNIT...]';
