/**
 * What other units refer to instead of repeating it: the physical addresses of a link's sections
 * (the shadow driver's `shmaddr=` is the R/W section's), its PCI address, and the interface an
 * ivshmem-net device becomes in Linux.
 */
import { formatBdf } from '../../../jailhouse/index.js';
import { SHMEM_PROTO_VETH } from './defaults.js';
import { sectionSpans, sectionSizes } from './footprint.js';
import type { IvshmemLinkRequest, LinkPlacement } from './request.js';
import { predictableIfname } from '../../../lib/ifname.js';

export interface LinkFacts {
  /** Physical address of the state table. */
  stateAddress: bigint;
  /** Physical address of the R/W section; undefined when the link has none. */
  rwAddress: bigint | undefined;
  /** Physical address of each peer's output section, by peer id; empty when the link has none. */
  outputAddresses: bigint[];
  /** Section sizes as the configurations carry them (page multiples). */
  stateSize: bigint;
  rwSize: bigint;
  outputSize: bigint;
  /** '00:0e.0' */
  bdf: string;
  /** The Linux interface of an ivshmem-net link's device; undefined for other protocols. */
  interface: string | undefined;
}

export { predictableIfname };

/**
 * The facts of a placed link. They do not depend on the architecture; `domain` is the PCI domain
 * of the Linux peer's device (the system's pciDomain on ARM virtual PCI), which names its interface.
 */
export function linkFacts(request: IvshmemLinkRequest, placement: LinkPlacement, options: { domain?: number } = {}): LinkFacts {
  const sizes = sectionSizes(request);
  const [state, rw, ...outputs] = sectionSpans(request);
  return {
    stateAddress: placement.address + state!.offset,
    rwAddress: sizes.rw === 0n ? undefined : placement.address + rw!.offset,
    outputAddresses: sizes.output === 0n ? [] : outputs.map((o) => placement.address + o.offset),
    stateSize: sizes.state,
    rwSize: sizes.rw,
    outputSize: sizes.output,
    bdf: formatBdf(placement.bdf),
    interface: request.protocol === SHMEM_PROTO_VETH ? predictableIfname(placement.bdf, options.domain) : undefined,
  };
}
