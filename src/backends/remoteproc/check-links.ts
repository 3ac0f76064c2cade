/**
 * The rpmsg links of a remoteproc hypervisor: a channel is between Linux and one remote
 * processor, so its peers are `root` and a Cell on the same hypervisor; two links cannot share a
 * device node. Every finding points at the unit file.
 */
import type { Problem } from '../../errors/problem.js';
import type { Unit, UnitOf } from '../../units/types.js';
import { unitId } from '../../kinds/spec-common.js';
import { ROOT_PEER } from '../../kinds/link/spec.js';
import { unitProblem, type CheckContext } from '../../transaction/context.js';
import type { RemoteprocHypervisor } from './definition.js';
import type { RpmsgFields } from './link-fields.js';

type RpmsgLink = UnitOf<'Link'> & { spec: RpmsgFields };

export async function checkLinks(ctx: CheckContext, hv: RemoteprocHypervisor, links: readonly Unit[]): Promise<Problem[]> {
  const out: Problem[] = [];
  const devices = new Map<string, string>();
  for (const link of links as readonly RpmsgLink[]) {
    const peers = link.spec.peers.map((p) => p.cell);
    if (peers.length !== 2 || peers[0] !== ROOT_PEER || peers[1] === ROOT_PEER) {
      out.push(unitProblem(ctx, link, ['peers'], 'UNIT_LINK', `${link.id}: an rpmsg channel is between Linux and one remote processor, but its peers are [${peers.join(', ')}]`, `write peers: [${ROOT_PEER}, CELL] with the Cell that runs on the processor`));
    } else {
      const cell = ctx.set.units.get(unitId(peers[1]!, 'Cell')) as UnitOf<'Cell'> | undefined;
      if (cell && unitId(cell.spec.hypervisor, 'Hypervisor') !== hv.id) {
        out.push(unitProblem(ctx, link, ['peers', 1], 'UNIT_LINK', `${link.id} connects ${cell.id}, which runs on ${unitId(cell.spec.hypervisor, 'Hypervisor')}, not on ${hv.id}`, `name a Cell of ${hv.id}, or set the link's hypervisor to the cell's`));
      }
    }
    const other = devices.get(link.spec.device);
    if (other !== undefined) {
      out.push(unitProblem(ctx, link, ['device'], 'UNIT_LINK', `${link.id} and ${other} both name ${link.spec.device}`, 'each channel has its own device node (ttyRPMSG0, ttyRPMSG1, … in the order the channels appear)'));
    } else devices.set(link.spec.device, link.id);
  }
  return out;
}
