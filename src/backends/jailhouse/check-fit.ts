/**
 * The configurations of one Jailhouse against the facts of the machine they are meant for
 * (`validate --facts`, and crtosd with its own machine's facts): every CPU they name exists there,
 * the hypervisor's memory is kept from Linux (not System RAM, as memmap= or a reserved-memory node
 * leaves it) yet inside the machine's RAM, and every cell's memory lies inside that RAM's span.
 */
import type { Problem } from '../../errors/problem.js';
import type { Unit } from '../../units/types.js';
import type { CellConfig, MemoryRegion, SystemConfig } from '../../jailhouse/index.js';
import type { MachineFacts } from '../../facts/types.js';
import { formatCpuList } from '../../lib/cpu-list.js';
import { unitProblem, type CheckContext } from '../../transaction/context.js';

const hex = (n: bigint) => `0x${n.toString(16)}`;
const span = (r: MemoryRegion) => `${hex(r.physStart)}-${hex(r.physStart + r.size - 1n)}`;

function ramRanges(facts: MachineFacts): [bigint, bigint][] | undefined {
  return facts.memory.systemRam?.map((r) => r.split('-').map((x) => BigInt(x)) as [bigint, bigint]);
}

export function checkFit(ctx: CheckContext, facts: MachineFacts, hv: Unit, system: SystemConfig | undefined, cells: readonly { unit: Unit; config: CellConfig }[]): Problem[] {
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
  const ram = ramRanges(facts);
  if (!ram || ram.length === 0) return out;
  const low = ram[0]![0];
  const high = ram[ram.length - 1]![1];
  const inside = (r: MemoryRegion) => r.physStart >= low && r.physStart + r.size - 1n <= high;
  if (system) {
    const hvMem = system.hypervisorMemory;
    const used = ram.find(([a, b]) => hvMem.physStart <= b && hvMem.physStart + hvMem.size - 1n >= a);
    if (!inside(hvMem)) {
      out.push(unitProblem(ctx, hv, ['system'], 'UNIT_MACHINE_MISFIT', `the hypervisor memory ${span(hvMem)} lies outside the RAM of ${machine} (${hex(low)}-${hex(high)})`, 'use a system configuration made for this machine (`jailhouse config create` on it)'));
    } else if (used) {
      out.push(unitProblem(ctx, hv, ['system'], 'UNIT_MACHINE_MISFIT', `the hypervisor memory ${span(hvMem)} is System RAM Linux uses on ${machine} (${hex(used[0])}-${hex(used[1])}), not reserved for Jailhouse`, 'reserve it at boot (memmap=SIZE$START on x86, a reserved-memory node on arm), or give the hypervisor memory that is reserved'));
    }
  }
  for (const { unit, config } of cells) {
    const outside = config.memoryRegions.filter((r) => r.size > 0n && !r.flags.includes('IO') && !r.flags.includes('COMM_REGION') && !inside(r));
    if (outside.length) out.push(unitProblem(ctx, unit, ['config'], 'UNIT_MACHINE_MISFIT', `the cell's memory ${outside.map(span).join(', ')} lies outside the RAM of ${machine} (${hex(low)}-${hex(high)})`, 'use a cell configuration made for this machine, or a condition that keeps the cell off it'));
  }
  return out;
}
