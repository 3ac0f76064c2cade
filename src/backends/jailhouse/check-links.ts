/**
 * The links of one Jailhouse hypervisor, as `validate` and the daemon check them before a set is
 * applied: each link alone (peers, sizes, vectors, what the drivers need), then where they all go
 * (the pool, PCI addresses), laid out from the unit files alone (no placement kept from a running
 * hypervisor: what this accepts, the daemon can always place). The configurations generated with
 * them are checked with the cells (check-cells.ts). Every finding points at the Link unit's field.
 */
import type { Problem } from '../../errors/problem.js';
import type { Unit } from '../../units/types.js';
import { unitProblem, type CheckContext } from '../../transaction/context.js';
import type { JailhouseHypervisor } from './definition.js';
import { checkedLayout } from './checked-layout.js';

export async function checkLinks(ctx: CheckContext, hv: JailhouseHypervisor, _links: readonly Unit[]): Promise<Problem[]> {
  const layout = await checkedLayout(ctx, hv);
  return layout.findings.flatMap((f) => {
    const unit = ctx.set.units.get(f.unit);
    if (!unit) return [];
    const p = unitProblem(ctx, unit, f.field, f.code, f.message, f.hint);
    return [f.severity === 'warning' ? { ...p, severity: 'warning' as const } : p];
  });
}
