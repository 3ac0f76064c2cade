/**
 * Conditions against a machine's facts: the first that does not hold, in words, or undefined when
 * all hold. Pure; `pathExists` is answered by the caller (the machine's files, or a facts file's
 * `paths`), which may not know: such a condition cannot be decided and is taken as met, so the
 * unit is checked rather than left out unseen (undecidedConditions names them for a warning).
 */
import type { MachineIdentity } from '../facts/types.js';
import { globToRegExp } from '../lib/glob.js';
import { COMPARISON, CONDITION_NAMES, type ConditionName, type Conditions } from './schema.js';

export interface ConditionFailure {
  name: ConditionName;
  /** The value as written, `!` included. */
  value: string;
  /** What the machine has, in words (`board is "QEMU virt"`). */
  actual: string;
}

/** Whether a machine path exists there; undefined when that cannot be known. */
export type PathExists = (machinePath: string) => boolean | undefined;

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

function compare(actual: number, expression: string): boolean {
  const m = COMPARISON.exec(expression)!;
  const wanted = Number(m[2]) * UNITS[m[3]!.toUpperCase()]!;
  switch (m[1] ?? '=') {
    case '<':
      return actual < wanted;
    case '<=':
      return actual <= wanted;
    case '>':
      return actual > wanted;
    case '>=':
      return actual >= wanted;
    case '!=':
      return actual !== wanted;
    default:
      return actual === wanted;
  }
}

/** systemd's rule: `word=value` matches that word exactly; `word` matches it alone or as `word=…`. */
function onCommandLine(commandLine: string, wanted: string): boolean {
  return commandLine.split(/\s+/).some((w) => w === wanted || (!wanted.includes('=') && w.startsWith(`${wanted}=`)));
}

function boardName(b: MachineIdentity['board']): string {
  return b.model ?? [b.vendor, b.product].filter((s) => s !== undefined).join(' ');
}

function holds(name: ConditionName, value: string, facts: MachineIdentity, exists: PathExists | undefined): boolean | undefined {
  switch (name) {
    case 'architecture':
      return facts.architecture === value;
    case 'host':
      return /^[0-9a-f]{32}$/.test(value) ? facts.machineId === value : globToRegExp(value.toLowerCase()).test(facts.hostname.toLowerCase());
    case 'machineId':
      return facts.machineId === value;
    case 'kernelCommandLine':
      return onCommandLine(facts.kernel.commandLine, value);
    case 'pathExists':
      return exists?.(value);
    case 'cpus':
      return compare(facts.cpus.count, value);
    case 'memory':
      return compare(facts.memory.total, value);
    case 'board':
      return globToRegExp(value).test(boardName(facts.board));
    case 'compatible':
      return (facts.board.compatible ?? []).some((c) => globToRegExp(value).test(c));
  }
}

function actualOf(name: ConditionName, value: string, facts: MachineIdentity): string {
  const q = JSON.stringify;
  switch (name) {
    case 'architecture':
      return `architecture is ${facts.architecture}`;
    case 'host':
      return `host is ${q(facts.hostname)}, machine id ${facts.machineId || 'unknown'}`;
    case 'machineId':
      return `machine id is ${facts.machineId || 'unknown'}`;
    case 'kernelCommandLine':
      return `command line is ${q(facts.kernel.commandLine)}`;
    case 'pathExists':
      return `${value.replace(/^!/, '')} ${value.startsWith('!') ? 'exists' : 'does not exist'}`;
    case 'cpus':
      return `${facts.cpus.count} CPUs`;
    case 'memory':
      return `memory is ${facts.memory.total} bytes`;
    case 'board':
      return `board is ${q(boardName(facts.board))}`;
    case 'compatible':
      return `compatible is ${facts.board.compatible?.length ? facts.board.compatible.map((c) => q(c)).join(', ') : 'none (no device tree)'}`;
  }
}

export function firstFailedCondition(conditions: Conditions | undefined, facts: MachineIdentity, exists?: PathExists): ConditionFailure | undefined {
  if (!conditions) return undefined;
  for (const name of CONDITION_NAMES) {
    for (const value of conditions[name] ?? []) {
      const negate = value.startsWith('!');
      const held = holds(name, negate ? value.slice(1) : value, facts, exists);
      if (held === undefined || held !== negate) continue;
      return { name, value, actual: actualOf(name, value, facts) };
    }
  }
  return undefined;
}

/** The conditions that cannot be decided: the `pathExists` values (as written, `!` included) whose path `exists` does not know. */
export function undecidedConditions(conditions: Conditions | undefined, exists: PathExists | undefined): string[] {
  return (conditions?.pathExists ?? []).filter((v) => exists?.(v.replace(/^!/, '')) === undefined);
}

/** `condition failed: board "*i.MX8M Plus*" (board is "QEMU virt")` */
export function conditionText(f: ConditionFailure): string {
  return `condition failed: ${f.name} ${JSON.stringify(f.value)} (${f.actual})`;
}
