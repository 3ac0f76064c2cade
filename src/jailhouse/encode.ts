/**
 * Configuration objects -> binary bytes, exactly as upstream's objcopy of the packed C struct
 * would lay them out. A value that does not fit its field is a CELLCFG_ENCODE ProblemError.
 */
import { ProblemError, problem } from '../errors/problem.js';
import {
  ARM_PLATFORM_V12,
  ARM_PLATFORM_V13,
  CACHE,
  CONSOLE,
  IOMMU,
  IOMMU_AMD,
  IOMMU_TIPVU,
  IRQCHIP,
  MAX_IOMMU_UNITS,
  MEMORY,
  PCI_CAPABILITY,
  PCI_DEVICE,
  PIO,
  X86_PLATFORM_V12,
  X86_PLATFORM_V13,
  cellDescLayout,
  maxUint,
  systemHeaderSize,
  systemLayout,
  writeFields,
  type FieldValues,
  type StructLayout,
} from './layout.js';
import {
  APIC_MODES,
  ARCHITECTURES,
  CACHE_FLAGS,
  CACHE_TYPES,
  CELL_FLAGS,
  CONSOLE_FLAGS,
  CONSOLE_TYPES,
  IOMMU_TYPES,
  MEMORY_FLAGS,
  PCI_CAP_FLAGS,
  PCI_TYPES,
  SYSTEM_FLAGS,
  nameToEnum,
  namesToBits,
  type BitNames,
  type EnumNames,
} from './flags.js';
import type { CellConfig, ConfigFile, Console, IommuUnit, MemoryRegion, SystemConfig } from './types.js';

function bad(message: string): never {
  throw new ProblemError(problem('CELLCFG_ENCODE', message));
}

function bits(names: readonly string[], table: BitNames, where: string): bigint {
  const r = namesToBits(names, table);
  if (!r.ok) bad(`${where}: unknown flag '${r.bad}'; expected one of ${table.map(([n]) => n).join(', ')} or a hex value`);
  return r.value;
}

function enumValue(name: string, table: EnumNames, where: string): number {
  const v = nameToEnum(name, table);
  if (v === undefined) bad(`${where}: unknown value '${name}'; expected one of ${table.map(([n]) => n).join(', ')} or a hex value`);
  return v;
}

/** Writes `values` through `layout` at `base`, refusing values that do not fit their field. */
function put(view: DataView, base: number, layout: StructLayout, values: FieldValues, where: string): void {
  for (const f of layout.fields) {
    const v = values[f.name];
    if (v === undefined) continue;
    const scalars = f.kind === 'uint' ? [v] : f.kind === 'u32array' ? (v as number[]) : [];
    const limit = f.kind === 'uint' ? maxUint(f.size) : 0xffffffffn;
    for (const s of scalars) {
      const okType = typeof s === 'bigint' || (typeof s === 'number' && Number.isInteger(s));
      if (!okType || BigInt(s as number | bigint) < 0n || BigInt(s as number | bigint) > limit) {
        bad(`${where}: ${f.name} = ${String(s)} does not fit ${f.size}-byte field (0..${limit})`);
      }
    }
  }
  writeFields(view, base, layout, values);
}

function memoryValues(m: MemoryRegion, where: string): FieldValues {
  return { physStart: m.physStart, virtStart: m.virtStart, size: m.size, flags: bits(m.flags, MEMORY_FLAGS, where) };
}

function consoleValues(c: Console, where: string): FieldValues {
  return {
    address: c.address,
    size: c.size,
    type: enumValue(c.type, CONSOLE_TYPES, `${where} type`),
    flags: bits(c.flags, CONSOLE_FLAGS, `${where} flags`),
    divider: c.divider,
    gateNr: c.gateNr,
    clockReg: c.clockReg,
  };
}

/** The 12 bytes of the IOMMU union at +16 for `unit`'s view (zeros when it has none). */
export function encodeIommuUnion(unit: IommuUnit): Uint8Array {
  if (unit.unionBytes) {
    if (unit.unionBytes.length !== 12) bad(`IOMMU unit union must be 12 bytes, got ${unit.unionBytes.length}`);
    return unit.unionBytes.slice();
  }
  const whole = new Uint8Array(IOMMU.size);
  const view = new DataView(whole.buffer);
  if (unit.amd) put(view, 0, IOMMU_AMD, { ...unit.amd }, 'IOMMU unit amd');
  if (unit.tipvu) put(view, 0, IOMMU_TIPVU, { ...unit.tipvu }, 'IOMMU unit tipvu');
  return whole.slice(16);
}

/** Size the counts of `cell` describe (jailhouse_cell_config_size). */
export function cellConfigSize(cell: CellConfig): number {
  return (
    132 +
    cell.cpuSetSize +
    32 * cell.memoryRegions.length +
    12 * cell.cacheRegions.length +
    32 * cell.irqchips.length +
    4 * cell.pioRegions.length +
    56 * cell.pciDevices.length +
    8 * cell.pciCaps.length +
    4 * cell.streamIds.length
  );
}

function archByte(config: ConfigFile): number {
  const entry = ARCHITECTURES.find(([n]) => n === config.arch);
  if (!entry) bad(`unknown architecture '${String(config.arch)}'`);
  return entry[1];
}

/** Writes the cell header and its arrays at `base`; the root cell of a system gets no signature. */
function writeCell(view: DataView, bytes: Uint8Array, base: number, cell: CellConfig, isRoot: boolean): void {
  const where = isRoot ? 'root cell' : `cell '${cell.name}'`;
  const name = new Uint8Array(32);
  for (let i = 0; i < cell.name.length; i++) {
    const code = cell.name.charCodeAt(i);
    // 32 characters (no NUL) only come from decoding such a file; the driver cuts them to 31.
    if (code > 0xff || i >= 32) bad(`${where}: name must be at most 31 single-byte characters`);
    name[i] = code;
  }
  if (!Number.isInteger(cell.cpuSetSize) || cell.cpuSetSize < 0) bad(`${where}: cpuSetSize must be a non-negative integer`);
  const header: FieldValues = {
    name,
    id: cell.id,
    flags: bits(cell.flags, CELL_FLAGS, `${where} flags`),
    cpuSetSize: cell.cpuSetSize,
    numMemoryRegions: cell.memoryRegions.length,
    numCacheRegions: cell.cacheRegions.length,
    numIrqchips: cell.irqchips.length,
    numPioRegions: cell.pioRegions.length,
    numPciDevices: cell.pciDevices.length,
    numPciCaps: cell.pciCaps.length,
    numStreamIds: cell.streamIds.length,
    vpciIrqBase: cell.vpciIrqBase,
    cpuResetAddress: cell.cpuResetAddress,
    msgReplyTimeout: cell.msgReplyTimeout,
  };
  if (!isRoot) {
    header.signature = new TextEncoder().encode(cell.revision === 14 ? 'JHCLL' : 'JHCELL');
    header.revision = cell.revision;
    if (cell.revision === 14) header.architecture = archByte(cell);
  }
  put(view, base, cellDescLayout(cell.revision), header, where);
  put(view, base + 100, CONSOLE, consoleValues(cell.console, `${where} console`), `${where} console`);

  let at = base + 132;
  for (const cpu of cell.cpus) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= cell.cpuSetSize * 8) bad(`${where}: CPU ${cpu} does not fit a CPU set of ${cell.cpuSetSize} bytes`);
    bytes[at + (cpu >> 3)]! |= 1 << (cpu & 7);
  }
  at += cell.cpuSetSize;
  cell.memoryRegions.forEach((m, i) => {
    put(view, at, MEMORY, memoryValues(m, `${where} memory region ${i}`), `${where} memory region ${i}`);
    at += MEMORY.size;
  });
  cell.cacheRegions.forEach((c, i) => {
    const w = `${where} cache region ${i}`;
    put(view, at, CACHE, { start: c.start, size: c.size, type: enumValue(c.type, CACHE_TYPES, w), padding: c.padding, flags: bits(c.flags, CACHE_FLAGS, w) }, w);
    at += CACHE.size;
  });
  cell.irqchips.forEach((c, i) => {
    put(view, at, IRQCHIP, { address: c.address, id: c.id, pinBase: c.pinBase, pinBitmap: [...c.pinBitmap] }, `${where} irqchip ${i}`);
    at += IRQCHIP.size;
  });
  cell.pioRegions.forEach((p, i) => {
    put(view, at, PIO, { base: p.base, length: p.length }, `${where} pio region ${i}`);
    at += PIO.size;
  });
  cell.pciDevices.forEach((d, i) => {
    const w = `${where} PCI device ${i}`;
    const type = enumValue(d.type, PCI_TYPES, `${w} type`);
    if (!Number.isInteger(d.msiReservedBits) || d.msiReservedBits < 0 || d.msiReservedBits > 0x3f) bad(`${w}: msiReservedBits must be 0..63`);
    const { msi64bits, msiMaskable, msiReservedBits, barMask, ...rest } = d;
    put(view, at, PCI_DEVICE, { ...rest, type, barMask: [...barMask], msiBits: (msi64bits ? 1 : 0) | (msiMaskable ? 2 : 0) | (msiReservedBits << 2) }, w);
    at += PCI_DEVICE.size;
  });
  cell.pciCaps.forEach((c, i) => {
    const w = `${where} PCI capability ${i}`;
    put(view, at, PCI_CAPABILITY, { id: c.id, start: c.start, len: c.len, flags: bits(c.flags, PCI_CAP_FLAGS, w) }, w);
    at += PCI_CAPABILITY.size;
  });
  cell.streamIds.forEach((s, i) => {
    put(view, at, { name: 'stream id', size: 4, fields: [{ name: 'id', offset: 0, size: 4, kind: 'uint' }] }, { id: s }, `${where} stream id ${i}`);
    at += 4;
  });
}

function withTrailing(body: Uint8Array, trailing: Uint8Array | undefined): Uint8Array {
  if (!trailing || trailing.length === 0) return body;
  const out = new Uint8Array(body.length + trailing.length);
  out.set(body);
  out.set(trailing, body.length);
  return out;
}

function encodeCell(cell: CellConfig): Uint8Array {
  const bytes = new Uint8Array(cellConfigSize(cell));
  writeCell(new DataView(bytes.buffer), bytes, 0, cell, false);
  return withTrailing(bytes, cell.trailing);
}

function encodeSystem(sys: SystemConfig): Uint8Array {
  const headerSize = systemHeaderSize(sys.revision);
  const bytes = new Uint8Array(headerSize + cellConfigSize(sys.rootCell));
  const view = new DataView(bytes.buffer);
  const info = sys.platformInfo;
  const head: FieldValues = {
    signature: new TextEncoder().encode(sys.revision === 14 ? 'JHSYS' : 'JHSYST'),
    revision: sys.revision,
    flags: bits(sys.flags, SYSTEM_FLAGS, 'system flags'),
    pciMmconfigBase: info.pciMmconfigBase,
    pciMmconfigEndBus: info.pciMmconfigEndBus,
    pciIsVirtual: info.pciIsVirtual,
    pciDomain: info.pciDomain,
  };
  if (sys.revision === 14) head.architecture = archByte(sys);
  put(view, 0, systemLayout(sys.revision), head, 'system');
  put(view, 12, MEMORY, memoryValues(sys.hypervisorMemory, 'hypervisor memory'), 'hypervisor memory');
  put(view, 44, CONSOLE, consoleValues(sys.debugConsole, 'debug console'), 'debug console');

  const isX86 = sys.arch === 'x86';
  if (isX86) {
    const x86 = info.x86;
    if (!x86) bad('an x86 system needs platformInfo.x86');
    const values: FieldValues = { ...x86, apicMode: enumValue(x86.apicMode, APIC_MODES, 'apicMode') };
    put(view, 0, sys.revision === 12 ? X86_PLATFORM_V12 : X86_PLATFORM_V13, values, 'platformInfo.x86');
  } else {
    const arm = info.arm;
    if (!arm) bad(`an ${sys.arch} system needs platformInfo.arm`);
    put(view, 0, sys.revision === 12 ? ARM_PLATFORM_V12 : ARM_PLATFORM_V13, { ...arm }, 'platformInfo.arm');
  }

  if (info.iommuUnits.length > MAX_IOMMU_UNITS) bad(`at most ${MAX_IOMMU_UNITS} IOMMU units fit, got ${info.iommuUnits.length}`);
  const iommuAt = sys.revision === 12 ? (isX86 ? 106 : 130) : 88;
  info.iommuUnits.forEach((unit, i) => {
    const w = `IOMMU unit ${i}`;
    const base = iommuAt + i * IOMMU.size;
    put(view, base, IOMMU, { type: enumValue(unit.type, IOMMU_TYPES, w), base: unit.base, size: unit.size, union: encodeIommuUnion(unit) }, w);
  });

  writeCell(view, bytes, headerSize, { ...sys.rootCell, revision: sys.revision, arch: sys.arch }, true);
  return withTrailing(bytes, sys.trailing);
}

/** Encodes a configuration; throws ProblemError (CELLCFG_ENCODE) when a value does not fit. */
export function encodeConfig(config: ConfigFile): Uint8Array {
  if (config.revision !== 12 && config.revision !== 13 && config.revision !== 14) bad(`unknown revision ${String(config.revision)}; expected 12, 13 or 14`);
  return config.kind === 'system' ? encodeSystem(config) : encodeCell(config);
}
