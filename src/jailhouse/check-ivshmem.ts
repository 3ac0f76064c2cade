/**
 * Checks of ivshmem links across a configuration set. What the hypervisor refuses (its
 * ivshmem_init: region indices past the cell's regions, more than 16 MSI-X vectors, a peer id of 12
 * or more, an id already connected on the bdf) is an error. What it accepts (it compares nothing
 * between peers) is an error only where the link is certain not to work, and each such case says
 * why; the rest are warnings.
 */
import { formatBdf } from './values.js';
import { cellLabel, describeRange, has, overlaps, pciOffset, phys, type Findings, type Member } from './check-members.js';
import type { PciDevice } from './types.js';

interface Endpoint {
  member: Member;
  index: number;
  dev: PciDevice;
}

/** IVSHMEM_MAX_PEERS: the hypervisor refuses an id of this or more. */
const MAX_PEERS = 12;
/** IVSHMEM_MSIX_VECTORS: the hypervisor refuses a device asking for more. */
const MAX_MSIX_VECTORS = 16;

function endpointLabel(e: Endpoint): string {
  return `${cellLabel(e.member)}, ivshmem device ${e.index} (${formatBdf(e.dev.bdf)})`;
}

const sectionName = (k: number): string => (k === 0 ? 'state table' : k === 1 ? 'r/w section' : `output section of peer ${k - 2}`);

/** Checks one endpoint on its own; returns false when its regions cannot be looked at. */
function checkEndpoint(f: Findings, e: Endpoint): boolean {
  const { dev, member } = e;
  const at = { offset: pciOffset(member, e.index) };
  const regions = member.cell.memoryRegions;
  const needed = dev.shmemRegionsStart + 2 + dev.shmemPeers;
  const regionsFit = needed <= regions.length;
  if (!regionsFit) {
    f.add('CELLCFG_IVSHMEM_REGIONS', member, `${endpointLabel(e)}: regions ${dev.shmemRegionsStart}..${needed - 1} (state, r/w, ${dev.shmemPeers} outputs) run past the cell's ${regions.length} memory regions`, {
      ...at,
      hint: 'the hypervisor requires shmemRegionsStart + 2 + shmemPeers <= number of memory regions',
    });
  }
  if (dev.numMsixVectors > MAX_MSIX_VECTORS) {
    f.add('CELLCFG_IVSHMEM_VECTORS', member, `${endpointLabel(e)}: numMsixVectors is ${dev.numMsixVectors}; the hypervisor gives an ivshmem device at most ${MAX_MSIX_VECTORS}`, {
      ...at,
      hint: `ask for at most ${MAX_MSIX_VECTORS} (ivshmem-net needs 2); the cell is refused with EINVAL otherwise`,
    });
  }
  if (dev.shmemDevId >= MAX_PEERS) {
    f.add('CELLCFG_IVSHMEM_DEV_ID', member, `${endpointLabel(e)}: shmemDevId is ${dev.shmemDevId}; the hypervisor refuses ids of ${MAX_PEERS} or more`, { ...at, hint: 'number the peers of a link 0, 1, …' });
  }
  // The hypervisor does not look at the peer count itself: more than 12 only means that the rest
  // can never connect, and 0 a link no id fits.
  if (dev.shmemPeers < 1 || dev.shmemPeers > MAX_PEERS) {
    f.add('CELLCFG_IVSHMEM_PEERS', member, `${endpointLabel(e)}: shmemPeers is ${dev.shmemPeers}; a link has 1..${MAX_PEERS} peers`, { ...at, severity: 'warning' });
  }
  if (!regionsFit) return false;
  if (dev.shmemDevId >= MAX_PEERS) return true;
  const outputSize = dev.shmemPeers > 0 ? regions[dev.shmemRegionsStart + 2]!.size : 0n;
  if (dev.shmemDevId >= dev.shmemPeers) {
    // The hypervisor accepts it, but the peer finds its own output section after the link's
    // last one, outside what the link maps: certain to break when output sections exist, since
    // that is where the peer sends; harmless (if odd) when the link has none.
    f.add('CELLCFG_IVSHMEM_DEV_ID', member, `${endpointLabel(e)}: shmemDevId ${dev.shmemDevId} is not below shmemPeers ${dev.shmemPeers}`, {
      ...at,
      ...(outputSize > 0n ? { hint: 'its output section would lie past the link\'s regions, where its writes fault; raise shmemPeers or renumber the peers' } : { severity: 'warning' as const }),
    });
    return true;
  }
  for (let k = 0; k < dev.shmemPeers; k++) {
    const index = dev.shmemRegionsStart + 2 + k;
    const out = regions[index]!;
    if (out.size === 0n) continue;
    const writable = has(out, 'WRITE');
    if (k === dev.shmemDevId && !writable) {
      // A peer sends by writing its own output section: without WRITE every send faults.
      f.region('CELLCFG_IVSHMEM_OUTPUT_WRITE', member, index, `output section of peer ${k} is not writable by its owner (${endpointLabel(e)} is peer ${k})`, "add WRITE to the owner's output region");
    } else if (k !== dev.shmemDevId && writable) {
      // Works, but gives up what the layout promises: only its owner writes an output section.
      f.region('CELLCFG_IVSHMEM_OUTPUT_WRITE', member, index, `output section of peer ${k} is writable by peer ${dev.shmemDevId} (${endpointLabel(e)})`, 'only the owning peer should write its output section; drop WRITE', 'warning');
    }
  }
  return true;
}

function checkLink(f: Findings, link: readonly Endpoint[]): void {
  const first = link[0]!;
  for (const e of link.slice(1)) {
    // Accepted by the hypervisor and harmless as long as the ids fit both counts.
    if (e.dev.shmemPeers !== first.dev.shmemPeers) {
      f.add('CELLCFG_IVSHMEM_PEERS', e.member, `${endpointLabel(e)} has shmemPeers ${e.dev.shmemPeers}, but ${endpointLabel(first)} (${first.member.file}) has ${first.dev.shmemPeers}`, {
        offset: pciOffset(e.member, e.index),
        severity: 'warning',
        hint: 'the hypervisor does not compare them, but the peers see different link sizes; give every peer the same count',
      });
    }
  }
  link.forEach((e, i) => {
    const twin = link.slice(0, i).find((o) => o.dev.shmemDevId === e.dev.shmemDevId);
    if (twin) {
      f.add('CELLCFG_IVSHMEM_DEV_ID', e.member, `${endpointLabel(e)} uses shmemDevId ${e.dev.shmemDevId}, like ${endpointLabel(twin)} (${twin.member.file})`, {
        offset: pciOffset(e.member, e.index),
        hint: 'each peer of a link needs its own id; the second cell create fails with EBUSY',
      });
    }
  });
  // Same physical memory for every section, compared with the first endpoint. The hypervisor does
  // not compare them, but peers that map different memory (or lay the sections out differently)
  // never read what the other wrote: certain not to work.
  for (const e of link.slice(1)) {
    const count = 2 + Math.min(e.dev.shmemPeers, first.dev.shmemPeers);
    for (let k = 0; k < count; k++) {
      const mine = e.member.cell.memoryRegions[e.dev.shmemRegionsStart + k]!;
      const theirs = first.member.cell.memoryRegions[first.dev.shmemRegionsStart + k]!;
      if (mine.physStart !== theirs.physStart || mine.size !== theirs.size) {
        f.region(
          'CELLCFG_IVSHMEM_ADDRESS',
          e.member,
          e.dev.shmemRegionsStart + k,
          `${sectionName(k)} of link ${formatBdf(e.dev.bdf)} is ${describeRange(phys(mine))}, but ${cellLabel(first.member)} (${first.member.file}) region ${first.dev.shmemRegionsStart + k} has ${describeRange(phys(theirs))}`,
          'every peer must map the same physical memory for each section',
        );
      }
    }
  }
}

export function checkIvshmem(f: Findings, members: readonly Member[]): void {
  const endpoints: Endpoint[] = [];
  for (const member of members) {
    member.cell.pciDevices.forEach((dev, index) => {
      if (dev.type === 'ivshmem') endpoints.push({ member, index, dev });
    });
  }
  const usable = endpoints.filter((e) => checkEndpoint(f, e));
  const links = new Map<number, Endpoint[]>();
  for (const e of usable) links.set(e.dev.bdf, [...(links.get(e.dev.bdf) ?? []), e]);
  for (const link of links.values()) {
    checkLink(f, link);
    const lone = link[0]!;
    if (link.length === 1 && !lone.member.isRoot) {
      f.add('CELLCFG_IVSHMEM_LONELY', lone.member, `${endpointLabel(lone)} has no peer in this configuration set`, { offset: pciOffset(lone.member, lone.index), severity: 'warning', hint: 'the peer uses the same bdf in its own configuration' });
    }
  }
  // Endpoints that share a state table but not a bdf: the hypervisor links peers by bdf only, so
  // these never signal each other while both write their states into the same table: certain
  // not to work as the one link the shared memory says they are.
  usable.forEach((a, i) => {
    for (const b of usable.slice(i + 1)) {
      if (a.dev.bdf === b.dev.bdf || a.member === b.member) continue;
      const sa = a.member.cell.memoryRegions[a.dev.shmemRegionsStart]!;
      const sb = b.member.cell.memoryRegions[b.dev.shmemRegionsStart]!;
      if (overlaps(phys(sa), phys(sb))) {
        f.add('CELLCFG_IVSHMEM_BDF', b.member, `${endpointLabel(b)} shares its state table ${describeRange(phys(sb))} with ${endpointLabel(a)} (${a.member.file}) but uses another bdf`, {
          offset: pciOffset(b.member, b.index),
          hint: `the hypervisor links peers by bdf; use ${formatBdf(a.dev.bdf)} in both`,
        });
      }
    }
  });
}
