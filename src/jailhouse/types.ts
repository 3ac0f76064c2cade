/**
 * The in-memory form of Jailhouse configurations: one field per C field (camelCase of the C name),
 * 64-bit fields as bigint, bit sets as lists of flag names and enumerations as names. Unknown bits
 * or values survive as hex strings ('0x200'), so every decoded file encodes back to the same bytes.
 */

export type Arch = 'x86' | 'arm' | 'arm64';
export type Revision = 12 | 13 | 14;

export interface MemoryRegion {
  physStart: bigint;
  virtStart: bigint;
  size: bigint;
  /** 'READ', 'WRITE', 'EXECUTE', 'DMA', 'IO', 'COMM_REGION', 'LOADABLE', 'ROOTSHARED', … */
  flags: string[];
}

export interface Console {
  address: bigint;
  size: number;
  /** 'NONE', 'EFIFB', '8250', 'PL011', … or a hex string for an unknown type. */
  type: string;
  /** 'ACCESS_MMIO', 'REGDIST_4', 'FB_1920x1080', 'INVERTED_GATE', 'MDR_QUIRK'. */
  flags: string[];
  divider: number;
  gateNr: number;
  clockReg: bigint;
}

export interface CacheRegion {
  start: number;
  size: number;
  /** 'L3_CODE', 'L3_DATA', 'L3' or a hex string. */
  type: string;
  padding: number;
  /** 'ROOTSHARED'. */
  flags: string[];
}

export interface Irqchip {
  address: bigint;
  id: number;
  pinBase: number;
  /** Four 32-bit words: 128 pins starting at pinBase. */
  pinBitmap: [number, number, number, number];
}

export interface PioRegion {
  base: number;
  length: number;
}

/** 1, 2, 3; any other value as hex ('0x9'), which the hypervisor treats as a device. */
export type PciDeviceType = 'device' | 'bridge' | 'ivshmem' | `0x${string}`;

export interface PciDevice {
  type: PciDeviceType;
  iommu: number;
  domain: number;
  /** bus << 8 | device << 3 | function */
  bdf: number;
  barMask: [number, number, number, number, number, number];
  capsStart: number;
  numCaps: number;
  numMsiVectors: number;
  msi64bits: boolean;
  msiMaskable: boolean;
  /** Bits 2-7 of the MSI bit-field byte; unused upstream, kept so files round-trip. */
  msiReservedBits: number;
  numMsixVectors: number;
  msixRegionSize: number;
  msixAddress: bigint;
  shmemRegionsStart: number;
  shmemDevId: number;
  shmemPeers: number;
  shmemProtocol: number;
}

export interface PciCapability {
  /** Capability id; extended capabilities have bit 0x8000 (JAILHOUSE_PCI_EXT_CAP) set. */
  id: number;
  start: number;
  len: number;
  /** 'WRITE'. */
  flags: string[];
}

export interface CellConfig {
  kind: 'cell';
  revision: Revision;
  arch: Arch;
  name: string;
  /** Set by the driver; 0 in files. */
  id: number;
  /** 'PASSIVE_COMMREG', 'TEST_DEVICE', 'AARCH32', 'VIRTUAL_CONSOLE_PERMITTED', 'VIRTUAL_CONSOLE_ACTIVE'. */
  flags: string[];
  /** Bytes of the CPU bitmap (8 in every upstream config). */
  cpuSetSize: number;
  /** CPU numbers whose bit is set in the bitmap, ascending. */
  cpus: number[];
  memoryRegions: MemoryRegion[];
  cacheRegions: CacheRegion[];
  irqchips: Irqchip[];
  pioRegions: PioRegion[];
  pciDevices: PciDevice[];
  pciCaps: PciCapability[];
  /** Raw 32-bit stream ids; for an MMU-500 (rev >= 13) the value is id | maskOut << 16. */
  streamIds: number[];
  vpciIrqBase: number;
  cpuResetAddress: bigint;
  msgReplyTimeout: bigint;
  console: Console;
  /** Bytes after the size the header describes (tolerated by the driver). Only for cell files. */
  trailing?: Uint8Array;
}

export interface IommuUnit {
  /** 'UNUSED', 'AMD', 'INTEL', 'SMMUV3', 'PVU', 'ARM_MMU500' or a hex string. */
  type: string;
  base: bigint;
  size: number;
  /** The union at +16, as the view the type selects. */
  amd?: { bdf: number; baseCap: number; msiCap: number; features: number };
  tipvu?: { tlbBase: bigint; tlbSize: number };
  /** The 12 union bytes verbatim, when the typed view does not reproduce them. */
  unionBytes?: Uint8Array;
}

export interface X86PlatformInfo {
  pmTimerAddress: number;
  /** 'AUTO', 'XAPIC', 'X2APIC' or a hex string. */
  apicMode: string;
  vtdInterruptLimit: number;
  tscKhz: number;
  apicKhz: number;
}

export interface ArmPlatformInfo {
  maintenanceIrq: number;
  gicVersion: number;
  gicdBase: bigint;
  giccBase: bigint;
  gichBase: bigint;
  gicvBase: bigint;
  gicrBase: bigint;
}

export interface PlatformInfo {
  pciMmconfigBase: bigint;
  pciMmconfigEndBus: number;
  pciIsVirtual: number;
  pciDomain: number;
  /** Up to 8 units; trailing all-zero slots are left out. */
  iommuUnits: IommuUnit[];
  /** Present when arch is 'x86'. */
  x86?: X86PlatformInfo;
  /** Present when arch is 'arm' or 'arm64'. */
  arm?: ArmPlatformInfo;
}

export interface SystemConfig {
  kind: 'system';
  revision: Revision;
  arch: Arch;
  /** 'VIRTUAL_DEBUG_CONSOLE'. */
  flags: string[];
  hypervisorMemory: MemoryRegion;
  debugConsole: Console;
  platformInfo: PlatformInfo;
  /** The root cell; its kind/revision/arch mirror the system's (the file stores zeros there). */
  rootCell: CellConfig;
  /** Bytes after the size the header describes. */
  trailing?: Uint8Array;
}

export type ConfigFile = SystemConfig | CellConfig;

export interface DecodeOptions {
  /**
   * The architecture of a revision-12/13 file, which carries no architecture byte: used as given,
   * nothing inferred. Left out, it is inferred from what the file says, and a file that does not
   * tell is refused (CELLCFG_ARCH_UNKNOWN). Ignored for revision 14, whose byte says it.
   */
  arch?: Arch;
}

/** How a decoded configuration's architecture was known. */
export type ArchSource =
  | { how: 'given' }
  | { how: 'byte' }
  /** Revision 12/13 without `arch`: the facts that ruled out the other architectures. */
  | { how: 'inferred'; reasons: string[] };
