/**
 * Links: an ivshmem v2 channel described once, both sides derived from it.
 *
 * Why: by hand, one channel is 2 + peers memory regions and one PCI device written into every
 * peer's configuration, with the same physical addresses, the same bdf, its own peer id and
 * write permission, and region counts and shmemRegionsStart indices kept in step. The hypervisor
 * checks almost none of it (it joins peers by bdf alone and compares nothing else), so a mistake
 * shows up as a guest that sees garbage. Here the addresses are allocated, not typed, and the
 * regions of every peer come from one function, so they cannot disagree.
 *
 * Why pure: the same code runs in `crtosctl validate`, in the daemon before it applies anything
 * and in `crtosctl cell-config show --generated`; none of them may touch the machine to find out
 * what would be generated. Requests in, placements, configurations and findings (data, not
 * exceptions) out.
 *
 * Why stable: a link's window is in the system configuration, and changing the system
 * configuration means disabling Jailhouse, which destroys every cell. So placement keeps every
 * link where it was (`previous`) unless it must move, and without `previous` it depends only on
 * the set of requests, never on their order.
 *
 * Flow: checkLinkRequest per link, placeLinks over all of them (pool and PCI addresses), then
 * addLinksToSystem / addLinks per configuration, and linkFacts for the units that refer to a link.
 */
export {
  LINK_FIELDS,
  peerIndexOf,
  peerLabel,
  type IvshmemPeer,
  type IvshmemLinkRequest,
  type LinkPool,
  type LinkPlacement,
  type UsedBdf,
  type LinkTarget,
  type LinkFinding,
} from './request.js';
export {
  PAGE_SIZE,
  DEFAULT_POOL_ALIGN,
  IVSHMEM_MAX_PEERS,
  IVSHMEM_MAX_MSIX_VECTORS,
  SHMEM_PROTO_UNDEFINED,
  SHMEM_PROTO_VETH,
  BAR_MASK_INTX,
  BAR_MASK_MSIX,
  BAR_MASK_MSIX_V012,
  msixVectorsOf,
  barMaskOf,
  type BarMask,
} from './defaults.js';
export { linkFootprint, sectionSizes, sectionSpans, roundUpToPage, type SectionSpan } from './footprint.js';
export { checkLinkRequest } from './check.js';
export { placeLinks, type PlaceLinksInput, type PlaceLinksResult } from './placement.js';
export { allocateBdfs } from './pci.js';
export { addLinks, addLinksToSystem, linkRegions, linkDevice, type PlacedLink } from './generate.js';
export { linkFacts, predictableIfname, type LinkFacts } from './facts.js';
