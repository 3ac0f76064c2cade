/**
 * Names for the bits and enumerations of the configuration format (values from
 * include/jailhouse/cell-config.h and console.h, the same in revisions 12–14 unless noted).
 * Bits without a name, and enumeration values without one, are written as hex strings so a
 * decoded file always encodes back to the same value.
 */

import type { PciDeviceType } from './types.js';

export type BitNames = readonly (readonly [name: string, bit: bigint])[];
export type EnumNames = readonly (readonly [name: string, value: number])[];

export const MEMORY_FLAGS: BitNames = [
  ['READ', 0x1n],
  ['WRITE', 0x2n],
  ['EXECUTE', 0x4n],
  ['DMA', 0x8n],
  ['IO', 0x10n],
  ['COMM_REGION', 0x20n],
  ['LOADABLE', 0x40n],
  ['ROOTSHARED', 0x80n],
  ['NO_HUGEPAGES', 0x100n],
  ['IO_UNALIGNED', 0x8000n],
  ['IO_8', 0x10000n],
  ['IO_16', 0x20000n],
  ['IO_32', 0x40000n],
  ['IO_64', 0x80000n],
];

/** AARCH32 exists from revision 13 (723bbf38) on; older files show it as 0x4. */
export const CELL_FLAGS: BitNames = [
  ['PASSIVE_COMMREG', 0x1n],
  ['TEST_DEVICE', 0x2n],
  ['AARCH32', 0x4n],
  ['VIRTUAL_CONSOLE_PERMITTED', 0x40000000n],
  ['VIRTUAL_CONSOLE_ACTIVE', 0x80000000n],
];

export const SYSTEM_FLAGS: BitNames = [['VIRTUAL_DEBUG_CONSOLE', 0x1n]];

/** The zero-valued choices (ACCESS_PIO, REGDIST_1, FB_1024x768) are the absence of these bits. */
export const CONSOLE_FLAGS: BitNames = [
  ['ACCESS_MMIO', 0x1n],
  ['REGDIST_4', 0x2n],
  ['FB_1920x1080', 0x4n],
  ['INVERTED_GATE', 0x1000n],
  ['MDR_QUIRK', 0x2000n],
];

export const CACHE_FLAGS: BitNames = [['ROOTSHARED', 0x1n]];
export const PCI_CAP_FLAGS: BitNames = [['WRITE', 0x1n]];

export const CONSOLE_TYPES: EnumNames = [
  ['NONE', 0],
  ['EFIFB', 1],
  ['8250', 2],
  ['PL011', 3],
  ['XUARTPS', 4],
  ['MVEBU', 5],
  ['HSCIF', 6],
  ['SCIFA', 7],
  ['IMX', 8],
  ['IMX_LPUART', 9],
  ['SCIF', 0xa],
];

export const CACHE_TYPES: EnumNames = [
  ['L3_CODE', 1],
  ['L3_DATA', 2],
  ['L3', 3],
];

export const IOMMU_TYPES: EnumNames = [
  ['UNUSED', 0],
  ['AMD', 1],
  ['INTEL', 2],
  ['SMMUV3', 3],
  ['PVU', 4],
  ['ARM_MMU500', 5],
];

export const APIC_MODES: EnumNames = [
  ['AUTO', 0],
  ['XAPIC', 1],
  ['X2APIC', 2],
];

export const PCI_TYPES = [
  ['device', 1],
  ['bridge', 2],
  ['ivshmem', 3],
] as const;

/** The name of a PCI device type value; another value than 1..3 as hex. */
export function pciTypeName(value: number): PciDeviceType {
  return enumToName(value, PCI_TYPES) as PciDeviceType;
}

export const ARCHITECTURES = [
  ['x86', 0],
  ['arm', 1],
  ['arm64', 2],
] as const;

export const SHMEM_PROTOCOLS: EnumNames = [
  ['UNDEFINED', 0x0000],
  ['VETH', 0x0001],
];

export const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** Flag names for the set bits of `value`, in table order; leftover bits as one hex string. */
export function bitsToNames(value: number | bigint, table: BitNames): string[] {
  let rest = BigInt(value);
  const names: string[] = [];
  for (const [name, bit] of table) {
    if (rest & bit) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0n) names.push(hex(rest));
  return names;
}

/** The inverse of bitsToNames; returns the offending entry when a name is unknown. */
export function namesToBits(names: readonly string[], table: BitNames): { ok: true; value: bigint } | { ok: false; bad: string } {
  let value = 0n;
  for (const name of names) {
    const known = table.find(([n]) => n === name);
    if (known) value |= known[1];
    else if (/^0x[0-9a-f]+$/i.test(name)) value |= BigInt(name);
    else return { ok: false, bad: name };
  }
  return { ok: true, value };
}

export function enumToName(value: number, table: EnumNames): string {
  return table.find(([, v]) => v === value)?.[0] ?? hex(value);
}

export function nameToEnum(name: string, table: EnumNames): number | undefined {
  const known = table.find(([n]) => n === name);
  if (known) return known[1];
  if (/^0x[0-9a-f]+$/i.test(name)) return Number.parseInt(name.slice(2), 16);
  return undefined;
}
