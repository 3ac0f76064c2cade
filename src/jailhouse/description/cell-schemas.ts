/**
 * Schemas of a cell configuration's structures and of the cell body shared by a `kind: cell`
 * description, a Cell unit's inline configuration and a system's root cell. Built by functions
 * (see schemas.ts for why they are built on first use).
 */
import { z } from 'zod';
import { CACHE_FLAGS, CACHE_TYPES, CELL_FLAGS, CONSOLE_FLAGS, CONSOLE_TYPES, MEMORY_FLAGS, PCI_CAP_FLAGS, PCI_TYPES, nameToEnum, pciTypeName } from '../flags.js';
import type { CellConfig, Console, MemoryRegion, PciDevice, PciDeviceType } from '../types.js';
import { bdf, cpuList, enumName, flagList, hexBytes, mmu500StreamId, once, shmemProtocol, u64, uint } from './value-schemas.js';

export const CONSOLE_DEFAULT: Console = { address: 0n, size: 0, type: 'NONE', flags: [], divider: 0, gateNr: 0, clockReg: 0n };

export const memoryRegionSchema = once(() =>
  z
    .strictObject({
      physStart: u64().default(0n),
      /** Defaults to physStart (an identity mapping). */
      virtStart: u64().optional(),
      size: u64().default(0n),
      flags: flagList(MEMORY_FLAGS).default([]),
    })
    .transform((m): MemoryRegion => ({ physStart: m.physStart, virtStart: m.virtStart ?? m.physStart, size: m.size, flags: m.flags })),
);

export const consoleSchema = once(() =>
  z
    .strictObject({
      address: u64().default(0n),
      size: uint(4).default(0),
      type: enumName(CONSOLE_TYPES, 0xffff).default('NONE'),
      flags: flagList(CONSOLE_FLAGS).default([]),
      divider: uint(4).default(0),
      gateNr: uint(4).default(0),
      clockReg: u64().default(0n),
    })
    .transform((c): Console => c),
);

/** `count` 32-bit words, missing ones zero. */
function words(count: number) {
  return z
    .array(uint(4))
    .max(count)
    .default([])
    .transform((w) => Array.from({ length: count }, (_, k) => w[k] ?? 0));
}

function cacheRegionSchema() {
  return z.strictObject({
    start: uint(4).default(0),
    size: uint(4).default(0),
    type: enumName(CACHE_TYPES, 0xff).default('L3'),
    padding: uint(1).default(0),
    flags: flagList(CACHE_FLAGS).default([]),
  });
}

function irqchipSchema() {
  return z.strictObject({
    address: u64().default(0n),
    id: uint(4).default(0),
    pinBase: uint(4).default(0),
    pinBitmap: words(4).transform((w) => w as [number, number, number, number]),
  });
}

/** 'device', 'bridge', 'ivshmem', or another type value (hex or a number), which the hypervisor treats as a device. */
function pciType() {
  return z
    .union([z.enum(['device', 'bridge', 'ivshmem']), z.string().regex(/^0x[0-9a-f]{1,2}$/i), z.number().int().min(0).max(0xff)])
    .transform((t): PciDeviceType => pciTypeName(typeof t === 'number' ? t : (nameToEnum(t, PCI_TYPES) ?? 0)));
}

function pciDeviceSchema() {
  return z
    .strictObject({
      type: pciType(),
      iommu: uint(1).default(0),
      domain: uint(2).default(0),
      bdf: bdf(),
      barMask: words(6).transform((w) => w as PciDevice['barMask']),
      capsStart: uint(2).default(0),
      numCaps: uint(2).default(0),
      numMsiVectors: uint(1).default(0),
      msi64bits: z.boolean().default(false),
      msiMaskable: z.boolean().default(false),
      msiReservedBits: z.number().int().min(0).max(63).default(0),
      numMsixVectors: uint(2).default(0),
      msixRegionSize: uint(2).default(0),
      msixAddress: u64().default(0n),
      shmemRegionsStart: uint(4).default(0),
      shmemDevId: uint(1).default(0),
      shmemPeers: uint(1).default(0),
      shmemProtocol: shmemProtocol().default(0),
    })
    .transform((d): PciDevice => d);
}

function pciCapSchema() {
  return z.strictObject({ id: uint(2), start: uint(2).default(0), len: uint(2).default(0), flags: flagList(PCI_CAP_FLAGS).default([]) });
}

const doc = (description: string) => ({ description });

/** The fields of a cell body, with the documentation the JSON Schema of a Cell unit shows. */
export function cellBodyFields() {
  return {
    name: z
      .string()
      .max(31)
      .refine((s) => [...s].every((c) => c.charCodeAt(0) > 0 && c.charCodeAt(0) <= 0xff), 'name must use single-byte characters and no NUL')
      .meta(doc('The cell name Jailhouse knows it by (at most 31 single-byte characters).')),
    id: uint(4).default(0).meta(doc('Cell id asked for; 0 lets the hypervisor choose.')),
    flags: flagList(CELL_FLAGS).default([]).meta(doc('Cell flags by name, e.g. [PASSIVE_COMMREG].')),
    /** Bytes of the CPU bitmap; defaults to 8 (one u64, as upstream) or what the CPUs need. */
    cpuSetSize: uint(4).optional().meta(doc('Bytes of the CPU bitmap; default 8, or what the CPUs need.')),
    cpus: cpuList().default([]).meta(doc("The cell's CPUs: '1-3,5', a number or a list.")),
    memoryRegions: z.array(memoryRegionSchema()).default([]).meta(doc('Memory regions: { physStart, virtStart (default physStart), size, flags }.')),
    cacheRegions: z.array(cacheRegionSchema()).default([]).meta(doc('Cache partitions (CAT): { start, size, type, flags }.')),
    irqchips: z.array(irqchipSchema()).default([]).meta(doc('Interrupt controllers: { address, id, pinBase, pinBitmap }.')),
    pioRegions: z.array(z.strictObject({ base: uint(2), length: uint(2) })).default([]).meta(doc('x86 port I/O ranges: { base, length }.')),
    pciDevices: z.array(pciDeviceSchema()).default([]).meta(doc('PCI devices, ivshmem links included: { type, bdf, ... }.')),
    pciCaps: z.array(pciCapSchema()).default([]).meta(doc('PCI capabilities of the devices: { id, start, len, flags }.')),
    /** Raw 32-bit values, or MMU-500 (SMMUv2) `{ id, maskOut }` pairs stored as id | maskOut << 16. */
    streamIds: z.array(z.union([uint(4), mmu500StreamId()])).default([]).meta(doc('IOMMU stream ids: numbers, or MMU-500 { id, maskOut }.')),
    vpciIrqBase: uint(4).default(0).meta(doc('First interrupt of the virtual PCI host controller.')),
    cpuResetAddress: u64().default(0n).meta(doc('Where the cell CPUs start (ARM).')),
    msgReplyTimeout: u64().default(0n).meta(doc('Comm region reply timeout; 0 waits forever.')),
    console: consoleSchema().default(CONSOLE_DEFAULT).meta(doc('The cell console: { address, size, type, flags, ... }.')),
    trailing: hexBytes().optional().meta(doc('Bytes after the described structures, as hex (kept for round trips).')),
  };
}

export type CellBodyFields = ReturnType<typeof cellBodyFields>;

/** Bitmap bytes a CPU list needs by default: 8 (upstream's __u64 cpus[1]) or whole u64 words. */
export function defaultCpuSetSize(cpus: readonly number[]): number {
  const highest = cpus.length === 0 ? 0 : Math.max(...cpus);
  return Math.max(8, Math.ceil((highest + 1) / 64) * 8);
}

/** Refinement of a cell body: every CPU has a bit in the CPU set. */
export function cpusFitSet(c: { cpus: number[]; cpuSetSize?: number | undefined }, ctx: z.RefinementCtx): void {
  const size = c.cpuSetSize ?? defaultCpuSetSize(c.cpus);
  const tooHigh = c.cpus.find((cpu) => cpu >= size * 8);
  if (tooHigh !== undefined) ctx.addIssue({ code: 'custom', path: ['cpus'], message: `CPU ${tooHigh} does not fit a CPU set of ${size} bytes` });
}

type CellBody = Omit<CellConfig, 'kind' | 'revision' | 'arch' | 'cpuSetSize' | 'trailing'> & { cpuSetSize?: number | undefined; trailing?: Uint8Array | undefined };

/** The configuration a parsed cell body describes under `revision` and `arch`. */
export function toCell(body: CellBody, revision: 12 | 13 | 14, arch: CellConfig['arch']): CellConfig {
  const { trailing, cpuSetSize, ...rest } = body;
  const cell: CellConfig = { kind: 'cell', revision, arch, ...rest, cpuSetSize: cpuSetSize ?? defaultCpuSetSize(body.cpus) };
  if (trailing && trailing.length > 0) cell.trailing = trailing;
  return cell;
}
