/** validate parses its own arguments and prints its own help (verbs/validate.ts); this is for the table and completion. */
import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'units', value: true, complete: 'dirs', help: 'read units from this directory (repeatable)' },
  { name: 'root', value: true, complete: 'dirs', help: 'also run the checks against the machine under this directory' },
  { name: 'facts', value: true, complete: 'files', help: 'check the units for the machine this facts file (or directory of them) describes (repeatable)' },
];
export const OPERANDS: Operands = 'dirs';
export const OWN_HELP = true;
