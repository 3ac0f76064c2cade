/**
 * Byte layouts of the packed Jailhouse configuration structs, as data. The codec reads and writes
 * through these tables only, so the offsets live in one place; test/jailhouse/layout.test.ts compares
 * them (and the bytes the encoder produces) with upstream's struct layouts, transcribed there.
 *
 * Every struct is packed, little-endian and built from fixed-width types, so one table per
 * revision serves every architecture.
 */

/** 'uint' fields of size 8 are bigint, smaller ones number; 'bytes' is raw; 'u32array' is number[]. */
export type FieldKind = 'uint' | 'bytes' | 'u32array';

export interface Field {
  /** camelCase of the C field name. */
  name: string;
  offset: number;
  size: number;
  kind: FieldKind;
}

export interface StructLayout {
  /** The C struct (or part) this describes. */
  name: string;
  size: number;
  fields: readonly Field[];
}

const u = (name: string, offset: number, size: 1 | 2 | 4 | 8): Field => ({ name, offset, size, kind: 'uint' });
const bytes = (name: string, offset: number, size: number): Field => ({ name, offset, size, kind: 'bytes' });
const u32s = (name: string, offset: number, count: number): Field => ({ name, offset, size: 4 * count, kind: 'u32array' });

export const CONSOLE: StructLayout = {
  name: 'jailhouse_console',
  size: 32,
  fields: [u('address', 0, 8), u('size', 8, 4), u('type', 12, 2), u('flags', 14, 2), u('divider', 16, 4), u('gateNr', 20, 4), u('clockReg', 24, 8)],
};

export const MEMORY: StructLayout = {
  name: 'jailhouse_memory',
  size: 32,
  fields: [u('physStart', 0, 8), u('virtStart', 8, 8), u('size', 16, 8), u('flags', 24, 8)],
};

export const CACHE: StructLayout = {
  name: 'jailhouse_cache',
  size: 12,
  fields: [u('start', 0, 4), u('size', 4, 4), u('type', 8, 1), u('padding', 9, 1), u('flags', 10, 2)],
};

export const IRQCHIP: StructLayout = {
  name: 'jailhouse_irqchip',
  size: 32,
  fields: [u('address', 0, 8), u('id', 8, 4), u('pinBase', 12, 4), u32s('pinBitmap', 16, 4)],
};

export const PIO: StructLayout = {
  name: 'jailhouse_pio',
  size: 4,
  fields: [u('base', 0, 2), u('length', 2, 2)],
};

/** `msiBits` is the bit-field byte: bit 0 msi_64bits, bit 1 msi_maskable. */
export const PCI_DEVICE: StructLayout = {
  name: 'jailhouse_pci_device',
  size: 56,
  fields: [
    u('type', 0, 1),
    u('iommu', 1, 1),
    u('domain', 2, 2),
    u('bdf', 4, 2),
    u32s('barMask', 6, 6),
    u('capsStart', 30, 2),
    u('numCaps', 32, 2),
    u('numMsiVectors', 34, 1),
    u('msiBits', 35, 1),
    u('numMsixVectors', 36, 2),
    u('msixRegionSize', 38, 2),
    u('msixAddress', 40, 8),
    u('shmemRegionsStart', 48, 4),
    u('shmemDevId', 52, 1),
    u('shmemPeers', 53, 1),
    u('shmemProtocol', 54, 2),
  ],
};

export const PCI_CAPABILITY: StructLayout = {
  name: 'jailhouse_pci_capability',
  size: 8,
  fields: [u('id', 0, 2), u('start', 2, 2), u('len', 4, 2), u('flags', 6, 2)],
};

export const STREAM_ID: StructLayout = { name: 'jailhouse_stream_id', size: 4, fields: [u('id', 0, 4)] };

export const IOMMU: StructLayout = {
  name: 'jailhouse_iommu',
  size: 28,
  fields: [u('type', 0, 4), u('base', 4, 8), u('size', 12, 4), bytes('union', 16, 12)],
};

/** The `amd` view of the IOMMU union, offsets from the start of jailhouse_iommu. */
export const IOMMU_AMD: StructLayout = {
  name: 'jailhouse_iommu.amd',
  size: 28,
  fields: [u('bdf', 16, 2), u('baseCap', 18, 1), u('msiCap', 19, 1), u('features', 20, 4)],
};

/** The `tipvu` view of the IOMMU union, offsets from the start of jailhouse_iommu. */
export const IOMMU_TIPVU: StructLayout = {
  name: 'jailhouse_iommu.tipvu',
  size: 28,
  fields: [u('tlbBase', 16, 8), u('tlbSize', 24, 4)],
};

const CELL_BODY: Field[] = [
  bytes('name', 8, 32),
  u('id', 40, 4),
  u('flags', 44, 4),
  u('cpuSetSize', 48, 4),
  u('numMemoryRegions', 52, 4),
  u('numCacheRegions', 56, 4),
  u('numIrqchips', 60, 4),
  u('numPioRegions', 64, 4),
  u('numPciDevices', 68, 4),
  u('numPciCaps', 72, 4),
  u('numStreamIds', 76, 4),
  u('vpciIrqBase', 80, 4),
  u('cpuResetAddress', 84, 8),
  u('msgReplyTimeout', 92, 8),
  bytes('console', 100, 32),
];

/** Revisions 12 and 13: 6-byte signature "JHCELL". */
export const CELL_DESC_V12: StructLayout = {
  name: 'jailhouse_cell_desc (rev 12/13)',
  size: 132,
  fields: [bytes('signature', 0, 6), u('revision', 6, 2), ...CELL_BODY],
};

/** Revision 14: 5-byte signature "JHCLL" and the architecture byte. */
export const CELL_DESC_V14: StructLayout = {
  name: 'jailhouse_cell_desc (rev 14)',
  size: 132,
  fields: [bytes('signature', 0, 5), u('architecture', 5, 1), u('revision', 6, 2), ...CELL_BODY],
};

const SYSTEM_COMMON: Field[] = [
  u('flags', 8, 4),
  bytes('hypervisorMemory', 12, 32),
  bytes('debugConsole', 44, 32),
  u('pciMmconfigBase', 76, 8),
  u('pciMmconfigEndBus', 84, 1),
  u('pciIsVirtual', 85, 1),
  u('pciDomain', 86, 2),
];

/** Revision 12 (v0.12, cRTOS): the IOMMU array sits inside each architecture's struct. */
export const SYSTEM_V12: StructLayout = {
  name: 'jailhouse_system (rev 12)',
  size: 486,
  fields: [bytes('signature', 0, 6), u('revision', 6, 2), ...SYSTEM_COMMON, bytes('archUnion', 88, 266), bytes('rootCell', 354, 132)],
};

/** Revisions 13 (final layout, 3bbe8ec2 on) and 14: common IOMMU array at 88, arch union at 312. */
export const SYSTEM_V13: StructLayout = {
  name: 'jailhouse_system (rev 13)',
  size: 488,
  fields: [bytes('signature', 0, 6), u('revision', 6, 2), ...SYSTEM_COMMON, bytes('iommuUnits', 88, 224), bytes('archUnion', 312, 44), bytes('rootCell', 356, 132)],
};

export const SYSTEM_V14: StructLayout = {
  name: 'jailhouse_system (rev 14)',
  size: 488,
  fields: [bytes('signature', 0, 5), u('architecture', 5, 1), u('revision', 6, 2), ...SYSTEM_COMMON, bytes('iommuUnits', 88, 224), bytes('archUnion', 312, 44), bytes('rootCell', 356, 132)],
};

/** x86 platform info in revision 12; offsets are from the start of jailhouse_system. */
export const X86_PLATFORM_V12: StructLayout = {
  name: 'platform_info.x86 (rev 12)',
  size: 354,
  fields: [u('pmTimerAddress', 88, 2), u('vtdInterruptLimit', 90, 4), u('apicMode', 94, 1), bytes('padding', 95, 3), u('tscKhz', 98, 4), u('apicKhz', 102, 4), bytes('iommuUnits', 106, 224)],
};

/** arm/arm64 platform info in revision 12; offsets are from the start of jailhouse_system. */
export const ARM_PLATFORM_V12: StructLayout = {
  name: 'platform_info.arm (rev 12)',
  size: 354,
  fields: [
    u('maintenanceIrq', 88, 1),
    u('gicVersion', 89, 1),
    u('gicdBase', 90, 8),
    u('giccBase', 98, 8),
    u('gichBase', 106, 8),
    u('gicvBase', 114, 8),
    u('gicrBase', 122, 8),
    bytes('iommuUnits', 130, 224),
  ],
};

/** x86 platform info in revisions 13 and 14; offsets are from the start of jailhouse_system. */
export const X86_PLATFORM_V13: StructLayout = {
  name: 'platform_info.x86 (rev 13/14)',
  size: 356,
  fields: [u('pmTimerAddress', 312, 2), u('apicMode', 314, 1), u('padding', 315, 1), u('vtdInterruptLimit', 316, 4), u('tscKhz', 320, 4), u('apicKhz', 324, 4)],
};

/** arm/arm64 platform info in revisions 13 and 14; offsets are from the start of jailhouse_system. */
export const ARM_PLATFORM_V13: StructLayout = {
  name: 'platform_info.arm (rev 13/14)',
  size: 356,
  fields: [
    u('maintenanceIrq', 312, 1),
    u('gicVersion', 313, 1),
    bytes('padding', 314, 2),
    u('gicdBase', 316, 8),
    u('giccBase', 324, 8),
    u('gichBase', 332, 8),
    u('gicvBase', 340, 8),
    u('gicrBase', 348, 8),
  ],
};

export const MAX_IOMMU_UNITS = 8;
export const CELL_NAME_BYTES = 32;

/** Header size in front of the root cell: 354 in revision 12, 356 from revision 13 (final) on. */
export function systemHeaderSize(revision: 12 | 13 | 14): number {
  return revision === 12 ? 354 : 356;
}

export function cellDescLayout(revision: 12 | 13 | 14): StructLayout {
  return revision === 14 ? CELL_DESC_V14 : CELL_DESC_V12;
}

export function systemLayout(revision: 12 | 13 | 14): StructLayout {
  return revision === 12 ? SYSTEM_V12 : revision === 13 ? SYSTEM_V13 : SYSTEM_V14;
}

export type FieldValue = number | bigint | Uint8Array | number[];
export type FieldValues = Record<string, FieldValue>;

/** Reads every field of `layout` at `base`. The caller has checked that base + layout.size fits. */
export function readFields(view: DataView, base: number, layout: StructLayout): FieldValues {
  const out: FieldValues = {};
  for (const f of layout.fields) {
    const at = base + f.offset;
    if (f.kind === 'bytes') out[f.name] = new Uint8Array(view.buffer, view.byteOffset + at, f.size).slice();
    else if (f.kind === 'u32array') out[f.name] = Array.from({ length: f.size / 4 }, (_, i) => view.getUint32(at + 4 * i, true));
    else out[f.name] = readUint(view, at, f.size);
  }
  return out;
}

export function readUint(view: DataView, at: number, size: number): number | bigint {
  switch (size) {
    case 1:
      return view.getUint8(at);
    case 2:
      return view.getUint16(at, true);
    case 4:
      return view.getUint32(at, true);
    default:
      return view.getBigUint64(at, true);
  }
}

/** Writes the fields present in `values`; absent fields keep the bytes already in the buffer (zero). */
export function writeFields(view: DataView, base: number, layout: StructLayout, values: Partial<FieldValues>): void {
  for (const f of layout.fields) {
    const v = values[f.name];
    if (v === undefined) continue;
    const at = base + f.offset;
    if (f.kind === 'bytes') {
      const src = v as Uint8Array;
      new Uint8Array(view.buffer, view.byteOffset + at, f.size).set(src.subarray(0, f.size));
    } else if (f.kind === 'u32array') {
      (v as number[]).slice(0, f.size / 4).forEach((w, i) => view.setUint32(at + 4 * i, w >>> 0, true));
    } else writeUint(view, at, f.size, v as number | bigint);
  }
}

export function writeUint(view: DataView, at: number, size: number, v: number | bigint): void {
  switch (size) {
    case 1:
      view.setUint8(at, Number(v));
      break;
    case 2:
      view.setUint16(at, Number(v), true);
      break;
    case 4:
      view.setUint32(at, Number(v), true);
      break;
    default:
      view.setBigUint64(at, BigInt(v), true);
  }
}

/** The largest value a uint field of `size` bytes holds. */
export function maxUint(size: number): bigint {
  return (1n << BigInt(8 * size)) - 1n;
}
