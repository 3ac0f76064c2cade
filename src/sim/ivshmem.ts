/**
 * ivshmem v2 links as the hypervisor registers them and as the root cell's Linux then sees them
 * (reference/ivshmem.md §5-§7). The hypervisor registers every ivshmem device of a cell when the
 * cell comes into being (`jailhouse enable` for the root cell, `cell create` for the others) and
 * keys the link by bdf alone; the Linux driver then adds each device of the root cell as a PCI
 * device, on the bus its `domain` and bdf name, if Linux has that bus. Pure.
 */
import type { CellConfig, MemoryRegion, PciDevice, SystemConfig } from '../jailhouse/index.js';
import type { ErrnoName } from '../host/errno.js';
import { machinePciDomains, type MachineDescription } from './description.js';
import type { SimIvshmemDevice, SimIvshmemEndpoint, SimShmemSection } from './state.js';

/** The hypervisor's limits: IVSHMEM_MAX_PEERS, IVSHMEM_MSIX_VECTORS. */
export const IVSHMEM_MAX_PEERS = 12;
export const IVSHMEM_MSIX_VECTORS = 16;

/** PCI IDs of every ivshmem device (vendor Siemens, device 0x4106; the subsystem IDs are the same). */
export const IVSHMEM_VENDOR_ID = 0x110a;
export const IVSHMEM_DEVICE_ID = 0x4106;

/** "No domain given" in platform_info.pci_domain: Linux numbers the virtual host itself. */
const PCI_DOMAIN_ANY = 0xffff;

/** bus:device.function as the hypervisor prints it (PCI_BDF_PARAMS): 0x70 → 00:0e.0. */
export function formatBdf(bdf: number): string {
  const hex2 = (n: number) => n.toString(16).padStart(2, '0');
  return `${hex2(bdf >> 8)}:${hex2((bdf >> 3) & 0x1f)}.${(bdf & 7).toString(16)}`;
}

/** The device's name in /sys/bus/pci/devices: domain:bus:device.function, 0000:00:0e.0. */
export function pciDeviceName(d: { domain: number; bdf: number }): string {
  return `${d.domain.toString(16).padStart(4, '0')}:${formatBdf(d.bdf)}`;
}

/** A registered end of a link, with the cell that holds it (for the connection message). */
export interface RegisteredEndpoint extends SimIvshmemEndpoint {
  cell: string;
}

export interface IvshmemRegistration {
  /** The cell's ends, in configuration order; none when the registration failed. */
  endpoints: SimIvshmemEndpoint[];
  /** What the hypervisor printed on its console meanwhile. */
  console: string;
  errno?: ErrnoName;
  /** Why, in our words (the hypervisor itself only traces the line in a debug build). */
  why?: string;
}

const ivshmemDevices = (cell: CellConfig): PciDevice[] => cell.pciDevices.filter((p) => p.type === 'ivshmem');

/**
 * The hypervisor's ivshmem_init for every ivshmem device of a cell, in order: it refuses (EINVAL)
 * a device whose 2 + shmem_peers regions from shmem_regions_start are not all in the cell, more
 * MSI-X vectors than it emulates, or a peer id it has no slot for, and (EBUSY) an id already
 * connected on that bdf. Nothing else is compared between peers (since "Relax peer matching
 * rules"): differing sizes, protocols or peer counts are accepted. On a failure the cell is torn
 * down, so none of its ends stays registered.
 */
export function registerIvshmem(cell: CellConfig, cellName: string, registered: RegisteredEndpoint[]): IvshmemRegistration {
  const mine: RegisteredEndpoint[] = [];
  let console = '';
  const failed = (errno: ErrnoName, why: string): IvshmemRegistration => ({ endpoints: [], console, errno, why });
  for (const dev of ivshmemDevices(cell)) {
    const at = formatBdf(dev.bdf);
    console += `Adding virtual PCI device ${at} to cell "${cellName}"\n`;
    if (dev.shmemRegionsStart + 2 + dev.shmemPeers > cell.memoryRegions.length) {
      return failed('EINVAL', `ivshmem device ${at}: shared memory regions ${dev.shmemRegionsStart}..${dev.shmemRegionsStart + 1 + dev.shmemPeers} out of range (the cell has ${cell.memoryRegions.length})`);
    }
    if (dev.numMsixVectors > IVSHMEM_MSIX_VECTORS) return failed('EINVAL', `ivshmem device ${at}: ${dev.numMsixVectors} MSI-X vectors, at most ${IVSHMEM_MSIX_VECTORS}`);
    if (dev.shmemDevId >= IVSHMEM_MAX_PEERS) return failed('EINVAL', `ivshmem device ${at}: peer id ${dev.shmemDevId}, at most ${IVSHMEM_MAX_PEERS - 1}`);
    const link = [...registered, ...mine].filter((e) => e.bdf === dev.bdf);
    if (link.some((e) => e.id === dev.shmemDevId)) return failed('EBUSY', `ivshmem device ${at}: peer id ${dev.shmemDevId} is already connected`);
    if (link.length > 0) {
      const peers = [...link].sort((a, b) => a.id - b.id).map((e) => ` "${e.cell}"\n`);
      console += `Shared memory connection established, peer cells:\n${peers.join('')}`;
    }
    mine.push({ bdf: dev.bdf, id: dev.shmemDevId, cell: cellName });
  }
  return { endpoints: mine.map(({ bdf, id }) => ({ bdf, id })), console };
}

const hex = (n: bigint) => `0x${n.toString(16)}`;
const section = (r: MemoryRegion | undefined): SimShmemSection => ({ physStart: hex(r?.physStart ?? 0n), size: hex(r?.size ?? 0n) });

/**
 * The root cell's ivshmem devices once registered, with their sections, and whether Linux shows
 * each as a PCI device. Call after registerIvshmem accepted the configuration (regions in range).
 */
export function rootIvshmemDevices(config: SystemConfig, d: MachineDescription): SimIvshmemDevice[] {
  const regions = config.rootCell.memoryRegions;
  const buses = linuxPciBuses(config, d);
  return ivshmemDevices(config.rootCell).map((dev) => {
    const start = dev.shmemRegionsStart;
    return {
      bdf: dev.bdf,
      id: dev.shmemDevId,
      domain: dev.domain,
      present: buses(dev.domain, dev.bdf >> 8),
      protocol: dev.shmemProtocol,
      peers: dev.shmemPeers,
      msixVectors: dev.numMsixVectors,
      stateTable: section(regions[start]),
      rw: section(regions[start + 1]),
      outputs: [...Array(dev.shmemPeers).keys()].map((k) => section(regions[start + 2 + k])),
    };
  });
}

/**
 * Which PCI buses the root cell's Linux has once Jailhouse is enabled, as `(domain, bus) → exists`.
 * On arm/arm64 with `pci_is_virtual` the driver adds a virtual host bridge: one bus (its ECAM
 * window is 1 MiB), in domain `pci_domain` (0xffff: Linux takes the lowest domain its own host
 * bridges leave free). Otherwise the buses are the machine's own: any bus of its PCI domains
 * (buses are not modelled further).
 */
export function linuxPciBuses(config: SystemConfig, d: MachineDescription): (domain: number, bus: number) => boolean {
  const own = machinePciDomains(d);
  if (d.arch !== 'x86' && config.platformInfo.pciIsVirtual !== 0) {
    const wanted = config.platformInfo.pciDomain;
    let virtualDomain = wanted;
    if (wanted === PCI_DOMAIN_ANY) {
      virtualDomain = 0;
      while (own.includes(virtualDomain)) virtualDomain++;
    }
    return (domain, bus) => domain === virtualDomain && bus === 0;
  }
  return (domain) => own.includes(domain);
}
