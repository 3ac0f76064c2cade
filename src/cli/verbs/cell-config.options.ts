/** cell-config parses its own arguments and prints its own help (verbs/cell-config.ts); this is for the table and completion. */
import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'arch', value: true, complete: ['x86', 'arm', 'arm64'], help: 'the architecture of revision 12/13 files' },
  { name: 'system', value: true, complete: 'files', help: 'the system configuration a cell belongs to' },
  { name: 'output', short: 'o', value: true, complete: 'files', help: 'the .cell file build writes' },
  { name: 'image', value: true, help: 'CELL=FILE@ADDR: an image a check places' },
  { name: 'generated', help: 'show what crtosd writes for a unit' },
  { name: 'units', value: true, complete: 'dirs', help: 'unit directory (repeatable)' },
  { name: 'root', value: true, complete: 'dirs', help: 'the machine root' },
  { name: 'state-dir', value: true, complete: 'dirs', help: 'the daemon state directory' },
];
export const OPERANDS: Operands = ['show', 'build', 'check'];
export const OWN_HELP = true;
