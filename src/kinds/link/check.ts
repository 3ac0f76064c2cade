/**
 * The Link units of a set, checked together per hypervisor: every peer is a Cell of that hypervisor
 * (or the root cell), listed once; then the backend's own check (where the links go, their PCI
 * addresses, what their peers can take). Every finding points at the unit file.
 */
import type { Problem } from '../../errors/problem.js';
import type { Unit, UnitOf } from '../../units/types.js';
import { unitId } from '../spec-common.js';
import { unitProblem, type CheckContext } from '../../transaction/context.js';
import { findBackendDefinition, type HypervisorCommon, type HypervisorUnit } from '../../backends/definitions.js';
import { isLinkFactRef, linkTypeOf, ROOT_PEER, type LinkFactRef } from './spec.js';
import type { ValuePath } from '../../units/yaml-source.js';

type Link = UnitOf<'Link'>;

export async function checkLinks(ctx: CheckContext, units: readonly Unit[]): Promise<Problem[]> {
  const links = units as readonly Link[];
  const out: Problem[] = [];
  const byHypervisor = new Map<string, Link[]>();
  for (const link of links) {
    const hvId = unitId(link.spec.hypervisor, 'Hypervisor');
    const hv = ctx.set.units.get(hvId) as HypervisorUnit | undefined;
    if (!hv) continue; // a reference to a missing unit is the loader's finding
    const def = findBackendDefinition((hv.spec as HypervisorCommon).type);
    if (!def?.links?.types.some((t) => t.type === link.spec.type)) {
      out.push(unitProblem(ctx, link, ['type'], 'UNIT_LINK', `${hvId} runs ${def?.title ?? (hv.spec as HypervisorCommon).type}, which makes no ${link.spec.type} links`, 'connect partitions of a hypervisor that makes this type of link (type: jailhouse makes ivshmem links)'));
      continue;
    }
    const peerProblems = checkPeers(ctx, link, hvId);
    out.push(...peerProblems);
    if (peerProblems.length === 0) byHypervisor.set(hvId, [...(byHypervisor.get(hvId) ?? []), link]);
  }
  for (const [hvId, members] of byHypervisor) {
    const hv = ctx.set.units.get(hvId) as HypervisorUnit;
    out.push(...(await findBackendDefinition((hv.spec as HypervisorCommon).type)!.links!.check(ctx, hv, members)));
  }
  out.push(...checkFactReferences(ctx));
  return out;
}

/**
 * Every value a unit takes from a link (`{ link, fact }`, at a field or one level below it, as a
 * driver's parameters) names a fact that link has. A reference to a missing link is the loader's
 * finding.
 */
function checkFactReferences(ctx: CheckContext): Problem[] {
  const out: Problem[] = [];
  for (const unit of ctx.set.units.values()) {
    for (const [field, value] of Object.entries(unit.spec)) {
      const found: [ValuePath, LinkFactRef][] = isLinkFactRef(value)
        ? [[[field], value]]
        : isRecord(value)
          ? Object.entries(value).flatMap(([k, v]): [ValuePath, LinkFactRef][] => (isLinkFactRef(v) ? [[[field, k], v]] : []))
          : [];
      for (const [path, ref] of found) {
        const link = ctx.set.units.get(unitId(ref.link, 'Link')) as Link | undefined;
        const facts = link ? (linkTypeOf(link.spec.type)?.facts(link.spec as never) ?? []) : undefined;
        if (!facts || facts.includes(ref.fact)) continue;
        out.push(unitProblem(ctx, unit, path, 'UNIT_LINK', `${link!.id} has no ${ref.fact}; what it gives (type ${link!.spec.type}, as written) is ${facts.join(', ')}`, `take one of those, or change ${link!.id}`));
      }
    }
  }
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkPeers(ctx: CheckContext, link: Link, hvId: string): Problem[] {
  const out: Problem[] = [];
  const seen = new Map<string, number>();
  link.spec.peers.forEach((peer, i) => {
    const at = ['peers', i];
    const first = seen.get(peer.cell);
    if (first !== undefined) {
      out.push(unitProblem(ctx, link, at, 'UNIT_LINK', `peer ${i} is '${peer.cell}' again (it is peer ${first} already)`, 'list each partition once: its position is its peer id'));
      return;
    }
    seen.set(peer.cell, i);
    if (peer.cell === ROOT_PEER) return;
    const cellId = unitId(peer.cell, 'Cell');
    // A missing one is the loader's finding (a reference of `peers`).
    const cell = ctx.set.units.get(cellId) as UnitOf<'Cell'> | undefined;
    if (cell && unitId(cell.spec.hypervisor, 'Hypervisor') !== hvId) {
      out.push(unitProblem(ctx, link, at, 'UNIT_LINK', `peer ${i} is ${cellId}, which runs on ${unitId(cell.spec.hypervisor, 'Hypervisor')}, not on ${hvId}`, 'a link connects partitions of one hypervisor'));
    }
  });
  return out;
}
