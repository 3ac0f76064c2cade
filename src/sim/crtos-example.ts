/**
 * The files of the cRTOS example deployment, made with our own codec (no upstream binaries): the
 * revision-12 x86 system configuration with the shadow (00:0e.0, protocol 0x0002) and
 * ivshmem-net (00:0d.0, VETH) links, the "nuttx" cell on CPU 3, a deterministic image, driver
 * modules and the loader. Layout as cRTOS's installation instructions give it: Linux the root
 * cell, NuttX the passive "nuttx" cell, two two-peer ivshmem links.
 */
import { encodeConfig, type CellConfig, type Console, type MemoryRegion, type PciDevice, type Revision, type SystemConfig, type Arch } from '../jailhouse/index.js';
import { deterministicImage } from './image-bytes.js';

const NO_CONSOLE: Console = { address: 0n, size: 0, type: 'NONE', flags: [], divider: 0, gateNr: 0, clockReg: 0n };

const region = (physStart: bigint, virtStart: bigint, size: bigint, flags: string[]): MemoryRegion => ({ physStart, virtStart, size, flags });
const EMPTY_REGION = region(0n, 0n, 0n, []);

function ivshmem(revision: Revision, bdf: number, regionsStart: number, devId: number, protocol: number, msix: number): PciDevice {
  return {
    type: 'ivshmem',
    iommu: 0,
    domain: 0,
    bdf,
    // JAILHOUSE_IVSHMEM_BAR_MASK_MSIX: v0.12's (the cRTOS fork, revision 12) maps 0x200 bytes of
    // MSI-X; since b9db8db0 (2020-10, before revision 13's final layout) it is a full page.
    barMask: [0xfffff000, revision === 12 ? 0xfffffe00 : 0xfffff000, 0, 0, 0, 0],
    capsStart: 0,
    numCaps: 0,
    numMsiVectors: 0,
    msi64bits: false,
    msiMaskable: false,
    msiReservedBits: 0,
    numMsixVectors: msix,
    msixRegionSize: 0,
    msixAddress: 0n,
    shmemRegionsStart: regionsStart,
    shmemDevId: devId,
    shmemPeers: 2,
    shmemProtocol: protocol,
  };
}

export const SHADOW_BDF = 0x0e << 3;
export const NET_BDF = 0x0d << 3;
const SHADOW_BASE = 0x1_0000_0000n;
const SHADOW_RW_SIZE = 0x4000_0000n; // 1 GiB, loadable, virtual 0 in the nuttx cell
const NET_BASE = 0x1_4010_0000n;

/** The shadow link's 4 regions: state table, R/W section, one output section per peer. */
function shadowRegions(devId: number, rwVirt: bigint, rwExtra: string[]): MemoryRegion[] {
  const out = (k: number) => ['READ', 'ROOTSHARED', ...(k === devId ? ['WRITE'] : [])];
  return [
    region(SHADOW_BASE, SHADOW_BASE, 0x1000n, ['READ', 'ROOTSHARED']),
    region(SHADOW_BASE + 0x1000n, rwVirt, SHADOW_RW_SIZE, ['READ', 'WRITE', 'EXECUTE', 'ROOTSHARED', ...rwExtra]),
    region(SHADOW_BASE + 0x1000n + SHADOW_RW_SIZE, SHADOW_BASE + 0x1000n + SHADOW_RW_SIZE, 0x1000n, out(0)),
    region(SHADOW_BASE + 0x2000n + SHADOW_RW_SIZE, SHADOW_BASE + 0x2000n + SHADOW_RW_SIZE, 0x1000n, out(1)),
  ];
}

/** JAILHOUSE_SHMEM_NET_REGIONS(NET_BASE, devId). */
function netRegions(devId: number): MemoryRegion[] {
  const out = (k: number) => ['READ', 'ROOTSHARED', ...(k === devId ? ['WRITE'] : [])];
  return [
    region(NET_BASE, NET_BASE, 0x1000n, ['READ', 'ROOTSHARED']),
    EMPTY_REGION,
    region(NET_BASE + 0x1000n, NET_BASE + 0x1000n, 0x7f000n, out(0)),
    region(NET_BASE + 0x80000n, NET_BASE + 0x80000n, 0x7f000n, out(1)),
  ];
}

function cellBase(name: string, revision: Revision, arch: Arch): Omit<CellConfig, 'cpus' | 'memoryRegions' | 'pciDevices' | 'flags'> {
  return {
    kind: 'cell',
    revision,
    arch,
    name,
    id: 0,
    cpuSetSize: 8,
    cacheRegions: [],
    irqchips: [],
    pioRegions: [],
    pciCaps: [],
    streamIds: [],
    vpciIrqBase: 0,
    cpuResetAddress: 0n,
    msgReplyTimeout: 0n,
    console: NO_CONSOLE,
  };
}

export interface ExampleOptions {
  revision: Revision;
  arch: Arch;
  cpus: number;
  hypervisorMemory: { physStart: bigint; size: bigint };
}

/** Where the example's links live: the inmate memory `jailhouse config create --mem-inmates` leaves out of the root cell (1536 MiB at 4 GiB). */
export const INMATE_MEMORY = { start: SHADOW_BASE, size: 0x6000_0000n };

/**
 * The system configuration as `jailhouse config create` would make it for this machine: Linux RAM
 * below the hypervisor, no links. The cRTOS guide then adds the two links by hand (crtosSystemConfig).
 */
export function crtosBaseSystemConfig(o: ExampleOptions): SystemConfig {
  const full = crtosSystemConfig(o);
  return { ...full, rootCell: { ...full.rootCell, memoryRegions: full.rootCell.memoryRegions.slice(0, 1), pciDevices: [] } };
}

export function crtosSystemConfig(o: ExampleOptions): SystemConfig {
  const rootCell: CellConfig = {
    ...cellBase('RootCell', o.revision, o.arch),
    flags: [],
    cpus: [...Array(o.cpus).keys()],
    memoryRegions: [
      // Linux RAM below the hypervisor, then the two links (shadow dev 0, net dev 0).
      region(0n, 0n, o.hypervisorMemory.physStart, ['READ', 'WRITE', 'EXECUTE', 'DMA']),
      ...shadowRegions(0, SHADOW_BASE + 0x1000n, []),
      ...netRegions(0),
    ],
    pciDevices: [ivshmem(o.revision, SHADOW_BDF, 1, 0, 0x0002, 16), ivshmem(o.revision, NET_BDF, 5, 0, 0x0001, 2)],
  };
  return {
    kind: 'system',
    revision: o.revision,
    arch: o.arch,
    flags: ['VIRTUAL_DEBUG_CONSOLE'],
    hypervisorMemory: region(o.hypervisorMemory.physStart, 0n, o.hypervisorMemory.size, []),
    debugConsole: { address: 0x3f8n, size: 0, type: '8250', flags: [], divider: 0, gateNr: 0, clockReg: 0n },
    platformInfo: {
      pciMmconfigBase: 0n,
      pciMmconfigEndBus: 0,
      pciIsVirtual: 0,
      pciDomain: 0,
      iommuUnits: [],
      ...(o.arch === 'x86'
        ? { x86: { pmTimerAddress: 0x608, apicMode: 'AUTO', vtdInterruptLimit: 256, tscKhz: 0, apicKhz: 0 } }
        : { arm: { maintenanceIrq: 25, gicVersion: 3, gicdBase: 0x8000000n, giccBase: 0n, gichBase: 0n, gicvBase: 0n, gicrBase: 0x80a0000n } }),
    },
    rootCell,
  };
}

export function nuttxCellConfig(o: ExampleOptions): CellConfig {
  return {
    ...cellBase('nuttx', o.revision, o.arch),
    flags: ['PASSIVE_COMMREG'],
    cpus: [o.cpus - 1],
    memoryRegions: [
      // Shadow dev 1: its R/W section is the sRTOS's memory, loadable and mapped at virtual 0.
      ...shadowRegions(1, 0n, ['LOADABLE']),
      ...netRegions(1),
      region(0n, 0x8000_0000n, 0x1000n, ['READ', 'WRITE', 'COMM_REGION']),
    ],
    pciDevices: [ivshmem(o.revision, SHADOW_BDF, 0, 1, 0x0002, 16), ivshmem(o.revision, NET_BDF, 4, 1, 0x0001, 2)],
  };
}

/**
 * The nuttx cell as it describes itself once its links are generated: only what is its own (its
 * CPU, its flags, the communication region); the links add their regions and devices.
 */
export function nuttxOwnCellConfig(o: ExampleOptions): CellConfig {
  const full = nuttxCellConfig(o);
  return { ...full, memoryRegions: full.memoryRegions.filter((r) => r.flags.includes('COMM_REGION')), pciDevices: [] };
}

/** 64 KiB of deterministic bytes (a fixed header, then an xorshift sequence), so its sha256 can be pinned. */
export function nuttxImage(): Uint8Array {
  return deterministicImage(64 * 1024, 'crtos-sim nuttx image v1\n', 0x2545f491);
}

export function encodeExampleConfigs(o: ExampleOptions): { system: Uint8Array; nuttx: Uint8Array; base: Uint8Array } {
  return { system: encodeConfig(crtosSystemConfig(o)), nuttx: encodeConfig(nuttxCellConfig(o)), base: encodeConfig(crtosBaseSystemConfig(o)) };
}
