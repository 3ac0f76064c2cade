import type { OptionSpec, Operands } from '../options.js';

export const OPTIONS: OptionSpec[] = [
  { name: 'order', help: 'dot: only ordering edges (After)' },
  { name: 'require', help: 'dot: only requirement edges (Requires, Wants)' },
  { name: 'fuzz', value: true, help: 'critical-chain: also follow units that became active within this time of the latest (e.g. 100ms)' },
];
/** The sub-verbs, systemd-analyze's names. */
export const SUB_VERBS = ['plot', 'dot', 'critical-chain', 'blame'] as const;
export const OPERANDS: Operands = SUB_VERBS;
export const USAGE = '{plot|dot|critical-chain|blame} [UNIT...]';
