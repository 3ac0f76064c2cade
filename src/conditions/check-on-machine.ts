/**
 * "Is this unit set valid on this machine": the one function crtosd (before it applies a set)
 * and `crtosctl validate` (one machine under --root, or each machine of a fleet from its facts)
 * call, so what validate rejects the daemon never applies. The units that apply there, their
 * specifiers expanded, go through the transaction check; skipped units are not checked against the
 * machine (a cell meant for another board is not judged by this one's system configuration),
 * though their files passed every machine-independent check when they were loaded.
 */
import type { Problem } from '../errors/problem.js';
import type { UnitSet } from '../units/types.js';
import type { MachineIdentity } from '../facts/types.js';
import { checkTransaction, type MachineFiles } from '../transaction/check.js';
import { conditionPaths, unitsOnMachine, type MachineSet } from './machine-set.js';

export interface MachineCheckInput {
  set: UnitSet;
  sources: ReadonlyMap<string, string>;
  /** The machine's files (under --root, or the daemon's Host); absent offline. */
  machine: MachineFiles | undefined;
  /** The machine's facts; absent, every unit applies and specifiers stay as written. */
  facts: MachineIdentity | undefined;
}

export interface MachineCheck {
  machineSet: MachineSet;
  problems: Problem[];
}

/** The set as it applies on the machine, without checking it. */
export async function machineSetOf(input: Omit<MachineCheckInput, 'sources'>): Promise<MachineSet> {
  const { set, machine, facts } = input;
  if (!facts) return { set, applied: set, skipped: new Map() };
  const paths = conditionPaths(set);
  const exists = machine ? new Map(await Promise.all(paths.map(async (p) => [p, await machine.exists(p)] as const))) : undefined;
  return unitsOnMachine(set, facts, exists);
}

export async function checkOnMachine(input: MachineCheckInput): Promise<MachineCheck> {
  const machineSet = await machineSetOf(input);
  const problems = await checkTransaction({ set: machineSet.applied, sources: input.sources, machine: input.machine, facts: input.facts });
  return { machineSet, problems };
}
