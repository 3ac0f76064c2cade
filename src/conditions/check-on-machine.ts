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
import { locateInUnit } from '../units/locate.js';
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

/**
 * The set as it applies on the machine, without checking it. `pathExists` is answered by the
 * facts' `paths` (a facts file says what that machine has), else by the machine's files; with
 * neither, it cannot be decided (see machine-set.ts).
 */
export async function machineSetOf(input: Omit<MachineCheckInput, 'sources'>): Promise<MachineSet> {
  const { set, machine, facts } = input;
  if (!facts) return { set, applied: set, skipped: new Map(), undecided: new Map() };
  const known = facts.paths ?? {};
  const answers = await Promise.all(conditionPaths(set).map(async (p) => [p, Object.hasOwn(known, p) ? known[p] : await machine?.exists(p)] as const));
  return unitsOnMachine(set, facts, new Map(answers.filter((a): a is readonly [string, boolean] => a[1] !== undefined)));
}

/** The transaction check of the units that apply on the machine. */
export function checkApplied(machineSet: MachineSet, input: MachineCheckInput): Promise<Problem[]> {
  return checkTransaction({ set: machineSet.applied, sources: input.sources, machine: input.machine, facts: input.facts });
}

/**
 * A warning at each `pathExists` condition that was taken as met because neither the facts nor
 * the machine's files say whether its path exists (`validate --facts` without --root): the unit
 * was checked as if it applies, which may not be so on that machine.
 */
export function undecidedProblems(machineSet: MachineSet, sources: ReadonlyMap<string, string>): Problem[] {
  const out: Problem[] = [];
  for (const [id, values] of machineSet.undecided) {
    const unit = machineSet.set.units.get(id)!;
    const written = (unit.spec as { conditions?: { pathExists?: string[] } }).conditions?.pathExists ?? [];
    for (const value of values) {
      const path = value.replace(/^!/, '');
      out.push({
        code: 'FACTS_PATH_UNKNOWN',
        severity: 'warning',
        message: `condition pathExists ${JSON.stringify(value)} cannot be decided from the facts: taken as met, so ${id} is checked as if it applies`,
        unit: id,
        hint: `say in the machine's facts file whether ${path} exists there (paths: {"${path}": true}; \`crtosctl facts --path ${path}\` adds it), or give --root DIR to look it up under DIR`,
        ...locateInUnit(unit, ['conditions', 'pathExists', written.indexOf(value)], sources),
      });
    }
  }
  return out;
}

export async function checkOnMachine(input: MachineCheckInput): Promise<MachineCheck> {
  const machineSet = await machineSetOf(input);
  return { machineSet, problems: [...undecidedProblems(machineSet, input.sources), ...(await checkApplied(machineSet, input))] };
}
