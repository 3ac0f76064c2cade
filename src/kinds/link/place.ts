/**
 * Where a link went, asked of its hypervisor's backend (LinkPort), for its own description and for
 * the units that take a value from it (`{ link: shadow, fact: rwAddress }`).
 */
import type { Unit, UnitOf } from '../../units/types.js';
import type { DescribeContext } from '../behaviour.js';
import { problem, type Problem } from '../../errors/problem.js';
import { unitId } from '../spec-common.js';
import { findBackend, type HypervisorCommon, type HypervisorUnit, type LinkPlacement } from '../../backends/index.js';
import { isLinkFactRef, type LinkFactRef } from './spec.js';

export type Placed = (LinkPlacement | { problem: Problem }) & { backend?: string };

export async function placeLink(link: UnitOf<'Link'>, ctx: DescribeContext): Promise<Placed> {
  const hvId = unitId(link.spec.hypervisor, 'Hypervisor');
  const hv = ctx.set.units.get(hvId) as HypervisorUnit | undefined;
  const type = hv ? (hv.spec as HypervisorCommon).type : undefined;
  const port = type ? findBackend(type)?.links : undefined;
  if (!hv || !port) {
    return { problem: problem('UNIT_LINK', `${link.id} cannot be placed: ${hvId} ${hv ? 'carries no links' : 'is not in the unit set'}`, { unit: link.id, hint: 'name a Hypervisor unit whose backend makes links (type: jailhouse)' }) };
  }
  return { backend: type, ...(await port.place(link, hv, ctx)) };
}

/** The value a reference takes from its link, as text; a problem when the link is missing or unplaced. */
export async function linkFactValue(owner: Unit, ref: LinkFactRef, ctx: DescribeContext): Promise<{ value: string; hypervisor: string } | { problem: Problem }> {
  const link = ctx.set.units.get(unitId(ref.link, 'Link')) as UnitOf<'Link'> | undefined;
  if (!link) return { problem: problem('UNIT_LINK', `${owner.id} takes ${ref.fact} from ${unitId(ref.link, 'Link')}, which is not in the unit set`, { unit: owner.id, hint: 'add the Link unit or correct the name' }) };
  const placed = await ctx.shared(`link-placement:${link.id}`, () => placeLink(link, ctx));
  if ('problem' in placed) return { problem: placed.problem };
  const value = placed.facts[ref.fact];
  if (value === undefined) {
    return { problem: problem('UNIT_LINK', `${link.id} has no ${ref.fact}${ref.fact === 'interface' ? ' (only a veth link becomes a network interface)' : ''}`, { unit: owner.id, hint: `take another fact of ${link.id}` }) };
  }
  return { value, hypervisor: unitId(link.spec.hypervisor, 'Hypervisor') };
}

/**
 * A record whose values may be taken from links (a driver's parameters), with those values
 * resolved, and the hypervisor whose re-enable they change with (for heldWith).
 */
export async function resolveLinkValues(
  owner: Unit,
  values: Readonly<Record<string, unknown>>,
  ctx: DescribeContext,
): Promise<{ values: Record<string, string>; hypervisor?: string; problem?: Problem }> {
  const out: Record<string, string> = {};
  let hypervisor: string | undefined;
  for (const [key, v] of Object.entries(values)) {
    if (!isLinkFactRef(v)) {
      out[key] = String(v);
      continue;
    }
    const r = await linkFactValue(owner, v, ctx);
    if ('problem' in r) return { values: out, problem: r.problem };
    out[key] = r.value;
    hypervisor = r.hypervisor;
  }
  return { values: out, ...(hypervisor ? { hypervisor } : {}) };
}
