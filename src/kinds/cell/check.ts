/**
 * The cells of a set, checked together per hypervisor by the backend it runs (Jailhouse: each
 * configuration decodes, fits the system configuration and the other cells; see
 * BackendDefinition.checkCells). A cell on a hypervisor whose backend runs no cells is refused
 * here. Every finding points at the unit file.
 *
 * Pure: the backends' definitions only; each loads its own checks (and codec) when a set has cells.
 */
import type { Problem } from '../../errors/problem.js';
import type { Unit, UnitOf } from '../../units/types.js';
import { unitId } from '../spec-common.js';
import { unitProblem, type CheckContext } from '../../transaction/context.js';
import { backendDefinitions, cellBackendDefinitions, findBackendDefinition, type HypervisorCommon, type HypervisorUnit } from '../../backends/definitions.js';

/** The Cell units of the set (the transaction check hands over this kind's units). */
export async function checkCells(ctx: CheckContext, units: readonly Unit[]): Promise<Problem[]> {
  const cells = units as readonly UnitOf<'Cell'>[];
  if (cells.length === 0) return [];
  const out: Problem[] = [];
  const byHypervisor = new Map<string, UnitOf<'Cell'>[]>();
  for (const c of cells) {
    const id = unitId(c.spec.hypervisor, 'Hypervisor');
    byHypervisor.set(id, [...(byHypervisor.get(id) ?? []), c]);
  }
  for (const [hvId, members] of byHypervisor) {
    const hv = ctx.set.units.get(hvId);
    if (!hv) continue; // a reference to a missing unit is the loader's finding
    const def = findBackendDefinition((hv.spec as HypervisorCommon).type);
    if (def?.checkCells) {
      // A mapping another backend's inline configuration accepts is that backend's (a remoteproc
      // processor on a Jailhouse hypervisor): refused here, so the backend reads only its own.
      const own = members.filter((c) => {
        const other = typeof c.spec.config === 'string' ? undefined : backendDefinitions().find((d) => d !== def && d.partitions?.inlineConfig.safeParse(c.spec.config).success);
        if (other) out.push(unitProblem(ctx, c, ['config'], 'UNIT_CELL_CONFIG', `${c.id}'s config is a ${other.title} configuration, but ${hvId} is a ${def.title} hypervisor`, `run the cell on a \`type: ${other.type}\` Hypervisor unit, or write a ${def.title} configuration`));
        return other === undefined;
      });
      out.push(...(await def.checkCells(ctx, hv as HypervisorUnit, own)));
      continue;
    }
    const cellDefs = cellBackendDefinitions();
    const titles = cellDefs.map((d) => d.title).join(' or ');
    const types = cellDefs.map((d) => d.type).join(' or ');
    for (const c of members) {
      out.push(unitProblem(ctx, c, ['hypervisor'], 'UNIT_CELL_CONFIG', `${c.id} is a ${titles} cell, but ${hvId} is not a ${titles} hypervisor`, `run the cell on a \`type: ${types}\` Hypervisor unit`));
    }
  }
  return out;
}
