import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'full', help: 'edit (a copy of) the whole unit file instead of a drop-in' },
  { name: 'runtime', help: 'in the runtime unit directory (/run/crtos/units): gone at reboot' },
  { name: 'units', value: true, complete: 'dirs', help: 'the unit directories (repeatable, highest precedence first) when not the daemon\'s' },
];
export const OPERANDS: Operands = 'unit';
export const USAGE = 'UNIT';
