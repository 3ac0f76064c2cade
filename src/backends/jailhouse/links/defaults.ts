/**
 * The numbers the hypervisor and the Linux drivers fix, and the defaults a link gets for what its
 * unit leaves out. One place, so checks, placement and generation agree on them.
 */
import type { Arch, Revision } from '../../../jailhouse/index.js';
import type { IvshmemLinkRequest } from './request.js';

/** The hypervisor maps memory in 4 KiB pages and refuses a region that is not page aligned. */
export const PAGE_SIZE = 0x1000n;
/** Upstream's ivshmem-net windows (JAILHOUSE_SHMEM_NET_REGIONS) are 1 MiB; so are ours by default. */
export const DEFAULT_POOL_ALIGN = 0x10_0000n;
/** IVSHMEM_MAX_PEERS: the hypervisor refuses a shmem_dev_id of 12 or more. */
export const IVSHMEM_MAX_PEERS = 12;
/** IVSHMEM_MSIX_VECTORS: the hypervisor refuses more. */
export const IVSHMEM_MAX_MSIX_VECTORS = 16;
/** Device slots on one PCI bus. */
export const PCI_SLOTS = 32;

export const SHMEM_PROTO_UNDEFINED = 0x0000;
export const SHMEM_PROTO_VETH = 0x0001;

/** BAR0: the register page. */
const BAR0_MASK = 0xfffff000;
/** BAR1 (MSI-X table and PBA) in v0.12: 512 bytes. */
const MSIX_BAR_V012 = 0xfffffe00;
/** BAR1 from b9db8db0 "Expand MSI-X region to full page" on. */
const MSIX_BAR_PAGE = 0xfffff000;

export type BarMask = [number, number, number, number, number, number];

export const BAR_MASK_INTX: BarMask = [BAR0_MASK, 0, 0, 0, 0, 0];
export const BAR_MASK_MSIX_V012: BarMask = [BAR0_MASK, MSIX_BAR_V012, 0, 0, 0, 0];
export const BAR_MASK_MSIX: BarMask = [BAR0_MASK, MSIX_BAR_PAGE, 0, 0, 0, 0];

/**
 * x86 has no INTx for ivshmem (its INTx update is empty), so it needs MSI-X: two vectors for
 * ivshmem-net (the driver asks for exactly two), one otherwise. Upstream's ARM configurations use
 * INTx and no vectors.
 */
export function msixVectorsOf(link: Pick<IvshmemLinkRequest, 'msixVectors' | 'protocol'>, arch: Arch): number {
  if (link.msixVectors !== undefined) return link.msixVectors;
  if (arch !== 'x86') return 0;
  return link.protocol === SHMEM_PROTO_VETH ? 2 : 1;
}

/**
 * INTx without vectors; with MSI-X, the mask of the Jailhouse that reads the revision. Revision 12
 * is v0.12 (512-byte MSI-X BAR). Revision 13 was in force both before and after b9db8db0 (October
 * 2020); the codec reads rev 13 in its final layout (1dc6b9c0, December 2020), which already has
 * the full-page mask, so rev 13 gets it like rev 14. A link can pin the other one with `barMask`.
 */
export function barMaskOf(link: Pick<IvshmemLinkRequest, 'barMask' | 'msixVectors' | 'protocol'>, target: { revision: Revision; arch: Arch }): BarMask {
  if (link.barMask !== undefined) return [0, 1, 2, 3, 4, 5].map((i) => link.barMask![i] ?? 0) as BarMask;
  if (msixVectorsOf(link, target.arch) === 0) return [...BAR_MASK_INTX];
  return target.revision === 12 ? [...BAR_MASK_MSIX_V012] : [...BAR_MASK_MSIX];
}
