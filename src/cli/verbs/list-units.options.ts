import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'state', value: true, complete: ['loaded', 'not-found', 'error', 'masked', 'active', 'inactive', 'failed', 'activating', 'deactivating'], help: 'only units in one of these states (comma-separated load, active or sub states)' },
  { name: 'failed', help: 'only failed units (the same as --state=failed)' },
  { name: 'kind', alias: 'type', short: 't', value: true, complete: 'kinds', help: 'only units of these kinds (comma-separated: cell, loader, driver, …)' },
  { name: 'no-legend', help: 'omit the header and the footer' },
  { name: 'plain', help: 'no state glyphs, whatever the terminal' },
  { name: 'all', short: 'a', help: 'accepted for systemctl habits; every loaded unit is always listed' },
];
export const OPERANDS: Operands = 'units';
export const USAGE = '[PATTERN...]';
