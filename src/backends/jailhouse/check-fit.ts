/**
 * The configurations of one Jailhouse against the facts of the machine they are meant for
 * (`validate --facts`, and crtosd with its own machine's facts): every CPU they name exists there,
 * the hypervisor's memory and every cell's memory lie inside the machine's physical RAM (as its
 * firmware reported it), and the hypervisor's memory is kept from Linux (not System RAM Linux
 * uses: `mem=` below it, `memmap=` or a reserved-memory node over it).
 */
import type { Problem } from '../../errors/problem.js';
import type { Unit } from '../../units/types.js';
import type { CellConfig, MemoryRegion, SystemConfig } from '../../jailhouse/index.js';
import { hex } from '../../jailhouse/flags.js';
import type { MachineIdentity } from '../../facts/types.js';
import { mergeRanges, parseRange, type AddressRange } from '../../facts/ram-ranges.js';
import { formatCpuList } from '../../lib/cpu-list.js';
import { unitProblem, type CheckContext } from '../../transaction/context.js';

const span = (r: MemoryRegion) => `${hex(r.physStart)}-${hex(r.physStart + r.size - 1n)}`;
const spans = (ranges: readonly AddressRange[]) => ranges.map(([a, b]) => `${hex(a)}-${hex(b)}`).join(', ');

export function checkFit(ctx: CheckContext, facts: MachineIdentity, hv: Unit, system: SystemConfig | undefined, cells: readonly { unit: Unit; config: CellConfig }[]): Problem[] {
  const out: Problem[] = [];
  const machine = 'this machine';
  const missing = (cpus: readonly number[]) => cpus.filter((c) => c >= facts.cpus.count);
  const cpuHint = (gone: readonly number[]) =>
    `${machine} has CPUs 0-${facts.cpus.count - 1}: use a configuration made for it, or a condition (cpus: ">=${Math.max(...gone) + 1}") that keeps the unit off smaller machines`;
  if (system) {
    const gone = missing(system.rootCell.cpus);
    if (gone.length) out.push(unitProblem(ctx, hv, ['system'], 'UNIT_MACHINE_MISFIT', `the system configuration gives the root cell CPU ${formatCpuList(gone)}, which ${machine} does not have`, cpuHint(gone)));
  }
  for (const { unit, config } of cells) {
    const gone = missing(config.cpus);
    if (gone.length) out.push(unitProblem(ctx, unit, ['config'], 'UNIT_MACHINE_MISFIT', `the cell configuration claims CPU ${formatCpuList(gone)}, which ${machine} does not have`, cpuHint(gone)));
  }
  // Physical RAM unknown (not readable there, a facts file from before it was collected): nothing
  // is said to lie outside it. What Linux uses says nothing about that: mem= hides the RAM above it.
  const physical = facts.memory.physicalRam && mergeRanges(facts.memory.physicalRam.map(parseRange));
  const linux = facts.memory.systemRam?.map(parseRange) ?? [];
  const inside = (r: MemoryRegion) => physical === undefined || physical.some(([a, b]) => r.physStart >= a && r.physStart + r.size - 1n <= b);
  const outsideMessage = (what: string) => `${what} lies outside the physical RAM of ${machine} (${spans(physical ?? [])})`;
  if (system) {
    const hvMem = system.hypervisorMemory;
    const used = linux.find(([a, b]) => hvMem.physStart <= b && hvMem.physStart + hvMem.size - 1n >= a);
    if (!inside(hvMem)) {
      out.push(unitProblem(ctx, hv, ['system'], 'UNIT_MACHINE_MISFIT', outsideMessage(`the hypervisor memory ${span(hvMem)}`), 'use a system configuration made for this machine (`jailhouse config create` on it)'));
    } else if (used) {
      const hint = 'keep it from Linux at boot (mem= below it, memmap=SIZE$START on x86, a no-map reserved-memory node on arm), or give the hypervisor memory that is kept from Linux';
      out.push(unitProblem(ctx, hv, ['system'], 'UNIT_MACHINE_MISFIT', `the hypervisor memory ${span(hvMem)} is System RAM Linux uses on ${machine} (${hex(used[0])}-${hex(used[1])}), not kept from Linux for Jailhouse`, hint));
    }
  }
  for (const { unit, config } of cells) {
    const outside = config.memoryRegions.filter((r) => r.size > 0n && !r.flags.includes('IO') && !r.flags.includes('COMM_REGION') && !inside(r));
    if (outside.length) out.push(unitProblem(ctx, unit, ['config'], 'UNIT_MACHINE_MISFIT', outsideMessage(`the cell's memory ${outside.map(span).join(', ')}`), 'use a cell configuration made for this machine, or a condition that keeps the cell off it'));
  }
  return out;
}
