/**
 * The machine's physical RAM as its firmware reported it at boot. `mem=` and `memmap=` on the
 * kernel command line and no-map reserved-memory nodes change what Linux uses (/proc/iomem's
 * System RAM), not this, so memory kept from Linux for Jailhouse is still inside it:
 * - x86: /sys/firmware/memmap/N/{start,end,type}, the E820 map as the firmware gave it, which the
 *   kernel keeps unmodified for kexec (start and end in hex, end included; readable by root only).
 * - device-tree machines: the root's children with `device_type = "memory"` that are not disabled,
 *   each `reg` a list of (address, size) pairs in big-endian 32-bit cells, as many as the root's
 *   `#address-cells` and `#size-cells` say; what Linux reads (drivers/of/fdt.c,
 *   early_init_dt_scan_memory), with Linux's default of 1 cell each when the root does not say
 *   (the Devicetree Specification's default address is 2 cells; Linux, which read this memory at
 *   boot, uses 1).
 * Unknown (undefined) when neither is readable: a user other than root on x86, or an arm64 machine
 * booted through UEFI, whose EFI stub removes the memory nodes and gives Linux its memory map.
 */
import type { FactsReader } from './collect.js';
import { formatRange, mergeRanges, type AddressRange } from './ram-ranges.js';

const MEMMAP = '/sys/firmware/memmap';
const DEVICE_TREE = '/proc/device-tree';

export async function firmwareRam(host: FactsReader): Promise<string[] | undefined> {
  const ranges = (await firmwareMemmap(host)) ?? (await deviceTreeMemory(host));
  return ranges && ranges.length > 0 ? mergeRanges(ranges).map(formatRange) : undefined;
}

async function firmwareMemmap(host: FactsReader): Promise<AddressRange[] | undefined> {
  const entries = await host.readDir(MEMMAP).catch(() => [] as string[]);
  if (entries.length === 0) return undefined;
  const fields = ['start', 'end', 'type'] as const;
  const read = await host.readAttributes(entries.flatMap((n) => fields.map((f) => `${MEMMAP}/${n}/${f}`)));
  const ranges: AddressRange[] = [];
  for (let i = 0; i < entries.length; i++) {
    const [start, end, type] = fields.map((_, j) => {
      const r = read[i * fields.length + j]!;
      return 'text' in r ? r.text.trim() : undefined;
    });
    // One entry that cannot be read (not root) makes the whole map unknown, not smaller.
    if (start === undefined || end === undefined || type === undefined || !/^0x[0-9a-f]+$/i.test(start) || !/^0x[0-9a-f]+$/i.test(end)) return undefined;
    if (type === 'System RAM') ranges.push([BigInt(start), BigInt(end)]);
  }
  return ranges;
}

async function deviceTreeMemory(host: FactsReader): Promise<AddressRange[] | undefined> {
  const children = await host.readDir(DEVICE_TREE).catch(() => [] as string[]);
  if (children.length === 0) return undefined;
  const [addressCells, sizeCells] = await Promise.all([cellCount(host, `${DEVICE_TREE}/#address-cells`), cellCount(host, `${DEVICE_TREE}/#size-cells`)]);
  const read = await host.readAttributes(children.flatMap((c) => [`${DEVICE_TREE}/${c}/device_type`, `${DEVICE_TREE}/${c}/status`]));
  const property = (i: number) => {
    const r = read[i]!;
    // A string property, NUL-terminated.
    return 'text' in r ? r.text.replace(/\0+$/, '') : undefined;
  };
  const memoryNodes = children.filter((_, i) => property(2 * i) === 'memory' && [undefined, 'okay', 'ok'].includes(property(2 * i + 1)));
  const ranges: AddressRange[] = [];
  for (const node of memoryNodes) {
    const reg = await host.readFile(`${DEVICE_TREE}/${node}/reg`).catch(() => undefined);
    if (reg) ranges.push(...regRanges(reg, addressCells ?? 1, sizeCells ?? 1));
  }
  return ranges;
}

async function cellCount(host: FactsReader, path: string): Promise<number | undefined> {
  const bytes = await host.readFile(path).catch(() => undefined);
  return bytes?.length === 4 ? bytes.readUInt32BE(0) : undefined;
}

/** A `reg` property → its (address, size) pairs as ranges; empty banks left out. */
function regRanges(reg: Buffer, addressCells: number, sizeCells: number): AddressRange[] {
  const cell = (offset: number, count: number) => {
    let v = 0n;
    for (let i = 0; i < count; i++) v = (v << 32n) | BigInt(reg.readUInt32BE(offset + 4 * i));
    return v;
  };
  const entry = 4 * (addressCells + sizeCells);
  const out: AddressRange[] = [];
  if (entry === 0) return out;
  for (let at = 0; at + entry <= reg.length; at += entry) {
    const address = cell(at, addressCells);
    const size = cell(at + 4 * addressCells, sizeCells);
    if (size > 0n) out.push([address, address + size - 1n]);
  }
  return out;
}
