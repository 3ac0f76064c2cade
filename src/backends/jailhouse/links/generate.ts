/**
 * Both sides of every link, from one description: each peer gets the link's 2 + peers regions
 * (state, R/W, one output per peer) at the same physical addresses, with only the write permission
 * of its own output and its own guest addresses differing, and one ivshmem device with the same
 * bdf and its own peer id. The counts and shmemRegionsStart indices the guide keeps in step by
 * hand are computed here.
 *
 * Every section is ROOTSHARED, also in the root cell, as upstream's JAILHOUSE_SHMEM_NET_REGIONS
 * does: the hypervisor evaluates the flag only for non-root cells, and one rule for all peers keeps
 * their regions identical but for WRITE on the owner's output.
 */
import type { CellConfig, MemoryRegion, PciDevice, SystemConfig } from '../../../jailhouse/index.js';
import { bitsToNames, MEMORY_FLAGS, namesToBits } from '../../../jailhouse/flags.js';
import { barMaskOf, msixVectorsOf } from './defaults.js';
import { sectionSpans } from './footprint.js';
import { byId, compareBig } from './order.js';
import { peerIndexOf, type IvshmemLinkRequest, type LinkPlacement, type LinkTarget } from './request.js';

export interface PlacedLink {
  request: IvshmemLinkRequest;
  placement: LinkPlacement;
}

const EMPTY_REGION: MemoryRegion = { physStart: 0n, virtStart: 0n, size: 0n, flags: [] };

/**
 * Flag names in the order decoding yields them, each once, so a generated configuration equals its
 * decoded bytes. An unknown name (checkLinkRequest reports it) is kept for the encoder to refuse.
 */
function canonicalFlags(names: readonly string[]): string[] {
  const bits = namesToBits(names, MEMORY_FLAGS);
  return bits.ok ? bitsToNames(bits.value, MEMORY_FLAGS) : [...new Set(names)];
}

/** The regions of `link` as peer `index` maps them. */
export function linkRegions(link: PlacedLink, index: number): MemoryRegion[] {
  const { request, placement } = link;
  const peer = request.peers[index]!;
  const guestBase = peer.virtStart ?? placement.address;
  const [state, rw, ...outputs] = sectionSpans(request);
  const region = (span: { offset: bigint; size: bigint }, flags: string[], virtStart = guestBase + span.offset): MemoryRegion =>
    span.size === 0n ? { ...EMPTY_REGION, flags: [] } : { physStart: placement.address + span.offset, virtStart, size: span.size, flags: canonicalFlags(flags) };
  return [
    region(state!, ['READ', 'ROOTSHARED']),
    region(rw!, ['READ', 'WRITE', 'ROOTSHARED', ...request.rwFlags, ...(peer.rw?.flags ?? [])], peer.rw?.virtStart ?? guestBase + rw!.offset),
    ...outputs.map((span, k) => region(span, ['READ', 'ROOTSHARED', ...(k === index ? ['WRITE'] : [])])),
  ];
}

/** The ivshmem device of `link` for peer `index`, whose regions start at `regionsStart`. */
export function linkDevice(link: PlacedLink, index: number, regionsStart: number, target: LinkTarget): PciDevice {
  const { request, placement } = link;
  return {
    type: 'ivshmem',
    iommu: 0,
    domain: target.domain ?? 0,
    bdf: placement.bdf,
    barMask: barMaskOf(request, target),
    capsStart: 0,
    numCaps: 0,
    numMsiVectors: 0,
    msi64bits: false,
    msiMaskable: false,
    msiReservedBits: 0,
    numMsixVectors: msixVectorsOf(request, target.arch),
    msixRegionSize: 0,
    msixAddress: 0n,
    shmemRegionsStart: regionsStart,
    shmemDevId: index,
    shmemPeers: request.peers.length,
    shmemProtocol: request.protocol,
  };
}

const isComm = (r: MemoryRegion): boolean => r.flags.includes('COMM_REGION');

/**
 * `base` (a cell's own configuration) with the links `peer` (undefined: the root cell) takes part
 * in, in order of physical address: their regions after the base's regions but before trailing
 * communication regions (which stay last, as cRTOS's configuration has it), their devices after
 * the base's devices. Links `peer` is not a peer of are left out.
 */
export function addLinks(base: CellConfig, peer: string | undefined, links: readonly PlacedLink[], target: LinkTarget): CellConfig {
  const mine = links
    .map((link) => ({ link, index: peerIndexOf(link.request, peer) }))
    .filter((m) => m.index >= 0)
    .sort((a, b) => compareBig(a.link.placement.address, b.link.placement.address) || byId(a.link.request, b.link.request));
  let at = base.memoryRegions.length;
  while (at > 0 && isComm(base.memoryRegions[at - 1]!)) at--;
  const regions: MemoryRegion[] = [];
  const devices: PciDevice[] = [];
  for (const { link, index } of mine) {
    devices.push(linkDevice(link, index, at + regions.length, target));
    regions.push(...linkRegions(link, index));
  }
  // Only communication regions follow the inserted ones, and no device of the base points at them.
  return {
    ...base,
    memoryRegions: [...base.memoryRegions.slice(0, at), ...regions, ...base.memoryRegions.slice(at)],
    pciDevices: [...base.pciDevices, ...devices],
  };
}

/** The system configuration with the root cell's links; its devices are in the system's PCI domain. */
export function addLinksToSystem(base: SystemConfig, links: readonly PlacedLink[], domain: number = base.platformInfo.pciDomain): SystemConfig {
  return { ...base, rootCell: addLinks(base.rootCell, undefined, links, { revision: base.revision, arch: base.arch, domain }) };
}
