import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'reverse', help: 'show the units that require or want the unit instead of those it requires or wants' },
  { name: 'all', short: 'a', help: 'expand every unit of the tree (default: the units directly below the root, as systemctl does for non-target units)' },
  { name: 'plain', help: 'a list indented by depth instead of a tree, without state glyphs' },
];
export const OPERANDS: Operands = 'unit';
export const USAGE = '[UNIT]';
