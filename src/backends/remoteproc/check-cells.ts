/**
 * The cells of a remoteproc hypervisor: each names a processor (never a .cell file, never a
 * Jailhouse configuration), no two the same one, and loads at most one image, its firmware.
 * Every finding points at the unit file.
 */
import type { Problem } from '../../errors/problem.js';
import type { Unit, UnitOf } from '../../units/types.js';
import { unitProblem, type CheckContext } from '../../transaction/context.js';
import { remoteprocCellConfig, type RemoteprocHypervisor } from './definition.js';

const CONFIG_HINT = 'write config: { processor: NAME } with the name /sys/class/remoteproc/remoteprocN/name reads (e.g. imx-rproc)';

export async function checkCells(ctx: CheckContext, hv: RemoteprocHypervisor, cells: readonly Unit[]): Promise<Problem[]> {
  const out: Problem[] = [];
  const byProcessor = new Map<string, string>();
  for (const cell of cells as readonly UnitOf<'Cell'>[]) {
    const { config } = cell.spec;
    if (typeof config === 'string') {
      out.push(unitProblem(ctx, cell, ['config'], 'UNIT_CELL_CONFIG', `${cell.id} runs on ${hv.id} (remoteproc), which runs firmware on a processor, not a .cell file (${config})`, CONFIG_HINT));
      continue;
    }
    const parsed = remoteprocCellConfig.safeParse(config);
    if (!parsed.success) {
      out.push(unitProblem(ctx, cell, ['config'], 'UNIT_CELL_CONFIG', `${cell.id} runs on ${hv.id} (remoteproc), but its config is a Jailhouse cell configuration`, CONFIG_HINT));
      continue;
    }
    const other = byProcessor.get(parsed.data.processor);
    if (other !== undefined) {
      out.push(unitProblem(ctx, cell, ['config', 'processor'], 'UNIT_CELL_CONFIG', `${cell.id} and ${other} both run on processor ${parsed.data.processor}`, 'a processor runs one firmware: give each cell its own processor'));
    } else byProcessor.set(parsed.data.processor, cell.id);
    cell.spec.load.forEach((entry, i) => {
      if (!('image' in entry)) {
        out.push(unitProblem(ctx, cell, ['load', i], 'UNIT_CELL_CONFIG', `${cell.id}: a remote processor loads one firmware file, not a string`, 'remove the string entry (pass settings in the firmware or over an rpmsg link)'));
      } else if (i > 0) {
        out.push(unitProblem(ctx, cell, ['load', i], 'UNIT_CELL_CONFIG', `${cell.id}: a remote processor loads one firmware file, but load has ${cell.spec.load.length} entries`, 'keep one `image:` entry, the ELF firmware (the kernel places its segments)'));
      } else if (entry.address !== 0n) {
        out.push(unitProblem(ctx, cell, ['load', i, 'address'], 'UNIT_CELL_CONFIG', `${cell.id}: a remote processor's firmware is placed by its ELF headers, not at an address`, 'remove `address:`'));
      }
    });
    if (!cell.spec.start) {
      out.push(unitProblem(ctx, cell, ['start'], 'UNIT_CELL_CONFIG', `${cell.id}: the kernel loads a remote processor's firmware when it starts it, so it cannot be left loaded and stopped`, 'remove `start: false`'));
    }
  }
  return out;
}
