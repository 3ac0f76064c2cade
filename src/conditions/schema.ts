/**
 * The `conditions:` field every kind takes, with systemd's meaning: a unit whose conditions do
 * not hold on a machine is not started there, and that is not a failure. Names follow systemd's
 * Condition… settings where systemd has one; `board` and `compatible` match the board by glob.
 * Each value is a string or a list of strings (all must hold); a leading `!` negates one.
 */
import { z } from 'zod';
import { ARCHITECTURES } from '../facts/types.js';
import { didYouMean } from '../units/did-you-mean.js';

/** `>=4`, `<2G`, `4`: systemd's comparison of a number (sizes in K, M, G, T of 1024). */
export const COMPARISON = /^(<=|>=|!=|<|>|=)?\s*(\d+)\s*([KMGT]?)$/i;

const negated = (v: string) => (v.startsWith('!') ? v.slice(1) : v);

/** A string or a list of strings, each checked by `check` (without its `!`), as a list. */
function condition(description: string, check?: (value: string) => string | undefined) {
  const one = z.string().superRefine((value, ctx) => {
    const problem = negated(value) === '' ? 'is empty' : check?.(negated(value));
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `'${value}' ${problem}` });
  });
  return z
    .union([one, z.array(one).min(1)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional()
    .meta({ description: `${description} A string or a list (all must hold); a leading ! negates.` });
}

const comparison = (what: string) => (v: string) => (COMPARISON.test(v) ? undefined : `is not a comparison of ${what}; write e.g. ">=4"${what === 'bytes' ? ' or ">=2G"' : ''}`);

export const CONDITION_FIELDS = {
  architecture: condition("ConditionArchitecture: systemd's architecture name (x86-64, arm64, arm, riscv64, …).", (v) =>
    ARCHITECTURES.includes(v) ? undefined : `is not an architecture systemd names${didYouMean(v, ARCHITECTURES) ? ` (${didYouMean(v, ARCHITECTURES)})` : ''}: one of ${ARCHITECTURES.join(', ')}`,
  ),
  host: condition('ConditionHost: a glob on the hostname, or a machine id.'),
  machineId: condition('The machine id (/etc/machine-id), 32 hex digits.', (v) => (/^[0-9a-f]{32}$/.test(v) ? undefined : 'is not a machine id (32 lower-case hex digits)')),
  kernelCommandLine: condition('ConditionKernelCommandLine: a word of the kernel command line, or word=value.'),
  pathExists: condition('ConditionPathExists: a machine path that must exist.', (v) => (v.startsWith('/') ? undefined : 'is not an absolute path')),
  cpus: condition('ConditionCPUs: the number of CPUs, compared (">=4").', comparison('CPUs')),
  memory: condition('ConditionMemory: the RAM Linux manages, compared (">=2G").', comparison('bytes')),
  board: condition('A glob on the board: its device-tree model, or DMI "vendor product".'),
  compatible: condition('A glob on the device-tree compatible strings: met when one matches.'),
};

export type ConditionName = keyof typeof CONDITION_FIELDS;
export const CONDITION_NAMES = Object.keys(CONDITION_FIELDS) as ConditionName[];

export const conditionsField = z
  .strictObject(CONDITION_FIELDS)
  .optional()
  .meta({ description: 'Conditions on the machine (systemd Condition…): when one does not hold, the unit is not started there, which is no failure.' });

export type Conditions = Partial<Record<ConditionName, string[]>>;
