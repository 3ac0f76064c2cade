/**
 * PCI addresses for links. The hypervisor joins the peers of a link by bdf alone, so a bdf names
 * one link system-wide, and it must not be the address of a real device in a peer's configuration.
 * Pins first, then each link's previous address while it is still free (so adding a link does not
 * renumber the others' interfaces), then the lowest free device slot on bus 0, in id order.
 */
import { formatBdf } from '../../../jailhouse/index.js';
import { PCI_SLOTS } from './defaults.js';
import { byId } from './order.js';
import { finding, LINK_FIELDS, peerLabel, type IvshmemLinkRequest, type LinkFinding, type LinkPlacement, type UsedBdf } from './request.js';

/** Bus and device of a bdf: every function of a slot belongs to the device in it. */
const slotOf = (bdf: number): number => bdf >> 3;

export function allocateBdfs(
  links: readonly IvshmemLinkRequest[],
  usedBdfs: readonly UsedBdf[],
  previous: ReadonlyMap<string, Pick<LinkPlacement, 'bdf'>>,
): { bdfs: Map<string, number>; findings: LinkFinding[] } {
  const findings: LinkFinding[] = [];
  const bdfs = new Map<string, number>();
  /** bdf -> the link that has it. */
  const taken = new Map<number, string>();
  const give = (link: IvshmemLinkRequest, bdf: number): void => {
    bdfs.set(link.id, bdf);
    taken.set(bdf, link.id);
  };
  /** The devices of this link's peers' base configurations. */
  const baseDevices = (link: IvshmemLinkRequest): UsedBdf[] => usedBdfs.filter((u) => link.peers.some((p) => p.cell === u.cell));
  const ordered = [...links].sort(byId);

  for (const link of ordered) {
    if (link.bdf === undefined) continue;
    const at = formatBdf(link.bdf);
    const device = baseDevices(link).find((u) => u.bdf === link.bdf);
    const holder = taken.get(link.bdf);
    if (device) {
      findings.push(finding(link.id, LINK_FIELDS.pci, 'CELLCFG_LINK_PCI_TAKEN', `PCI address ${at} is the address of a device in the configuration of ${peerLabel(device)}, a peer of this link`, 'pin another address, or leave `pci` out to have a free one allocated'));
    } else if (holder !== undefined) {
      findings.push(finding(link.id, LINK_FIELDS.pci, 'CELLCFG_LINK_PCI_TAKEN', `PCI address ${at} is also pinned by link ${holder}; the hypervisor joins peers by PCI address, so two links cannot share one`, 'give each link its own address, or leave `pci` out to have a free one allocated'));
    } else {
      give(link, link.bdf);
    }
  }

  for (const link of ordered) {
    const before = previous.get(link.id)?.bdf;
    if (link.bdf !== undefined || before === undefined) continue;
    if (!taken.has(before) && !baseDevices(link).some((u) => u.bdf === before)) give(link, before);
  }

  for (const link of ordered) {
    if (link.bdf !== undefined || bdfs.has(link.id)) continue;
    const busy = new Set([...taken.keys(), ...baseDevices(link).map((u) => u.bdf)].filter((b) => b >> 8 === 0).map(slotOf));
    const slot = [...Array(PCI_SLOTS).keys()].find((s) => !busy.has(s));
    if (slot === undefined) {
      findings.push(finding(link.id, LINK_FIELDS.pci, 'CELLCFG_LINK_PCI_FULL', `no free device slot is left on PCI bus 0: all ${PCI_SLOTS} are used by other links or by devices of this link's peers`, 'pin `pci` to an address on another bus (e.g. 01:00.0), or remove a link'));
    } else {
      give(link, slot << 3);
    }
  }
  return { bdfs, findings };
}
