/**
 * One unit tree against many machines' facts (`crtosctl validate --facts`): each machine through
 * checkOnMachine, the function crtosd uses, so a fleet check and the daemon cannot disagree. The
 * tree is parsed once by the caller; machines whose check would read the same (the same units
 * apply, with the same expansions, against the same CPUs and RAM) share one check's result.
 */
import type { Problem } from '../errors/problem.js';
import type { UnitSet } from '../units/types.js';
import type { MachineFacts } from '../facts/types.js';
import type { MachineFiles } from '../transaction/check.js';
import { checkApplied, machineSetOf, undecidedProblems } from './check-on-machine.js';
import type { Skip } from './machine-set.js';

export interface FleetMachine {
  /** Where its facts came from (a facts file), for messages. */
  file: string;
  facts: MachineFacts;
}

export interface MachineResult {
  machine: FleetMachine;
  applied: string[];
  skipped: Map<string, Skip>;
  problems: Problem[];
}

const json = (v: unknown) => JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x) ? Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64') : x));

export async function checkFleet(set: UnitSet, sources: ReadonlyMap<string, string>, machines: readonly FleetMachine[], files: MachineFiles | undefined): Promise<MachineResult[]> {
  const cache = new Map<string, Promise<Problem[]>>();
  const out: MachineResult[] = [];
  for (const machine of machines) {
    const { facts } = machine;
    const machineSet = await machineSetOf({ set, machine: files, facts });
    const applied = [...machineSet.applied.units.keys()];
    // What the check reads of a machine besides its files: its units as they apply, CPUs and RAM.
    const expanded = [...machineSet.applied.units.values()].filter((u) => u !== set.units.get(u.id)).map((u) => [u.id, u.spec]);
    const key = json([applied, expanded, facts.cpus.count, facts.memory.systemRam ?? null, facts.memory.physicalRam ?? null]);
    let problems = cache.get(key);
    if (!problems) {
      problems = checkApplied(machineSet, { set, sources, machine: files, facts });
      cache.set(key, problems);
    }
    // What checkOnMachine reports, the check's part shared: which conditions are undecided is the machine's own.
    out.push({ machine, applied, skipped: new Map(machineSet.skipped), problems: [...undecidedProblems(machineSet, sources), ...(await problems)] });
  }
  return out;
}
