/** What a placed link gives other units, as text, and where Linux shows its device. */
import { formatSize } from '../../jailhouse/values.js';
import { linkFootprint } from './links/index.js';
import type { LinkLayout } from './layout.js';

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** The values `{ link: NAME, fact: … }` takes (LINK_FACTS), with the size of its memory for people. */
export function placementFacts(l: LinkLayout): Record<string, string> & { size: string; footprint: string } {
  return {
    address: hex(l.placement.address),
    size: formatSize(linkFootprint(l.request)),
    footprint: hex(l.placement.footprint),
    stateAddress: hex(l.facts.stateAddress),
    ...(l.facts.rwAddress !== undefined ? { rwAddress: hex(l.facts.rwAddress) } : {}),
    pci: l.facts.bdf,
    ...(l.facts.interface !== undefined ? { interface: l.facts.interface } : {}),
  };
}

/** The sysfs directory of the ivshmem device the root cell sees (`/sys/bus/pci/devices/0000:00:0e.0`). */
export function pciDevicePath(domain: number, bdf: number): string {
  const bus = (bdf >> 8).toString(16).padStart(2, '0');
  const dev = ((bdf >> 3) & 0x1f).toString(16).padStart(2, '0');
  return `/sys/bus/pci/devices/${domain.toString(16).padStart(4, '0')}:${bus}:${dev}.${bdf & 7}`;
}
