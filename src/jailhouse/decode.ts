/**
 * Binary .cell/.sysconfig bytes -> configuration objects. Every read is bounds-checked before it
 * happens; anything the format does not allow becomes a Problem carrying the byte offset and what
 * was expected. decodeConfig never throws.
 */
import { problem, type Problem } from '../errors/problem.js';
import type { ProblemCode } from '../errors/codes.js';
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
  readFields,
  systemHeaderSize,
  systemLayout,
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
  SYSTEM_FLAGS,
  bitsToNames,
  enumToName,
  hex,
  pciTypeName,
} from './flags.js';
import { encodeIommuUnion } from './encode.js';
import { ARCH_HINT_CELL, ARCH_HINT_SYSTEM, CELL_LOOKED_AT, SYSTEM_LOOKED_AT, archVerdict, cellClues, systemClues, type ArchVerdict } from './arch-inference.js';
import type {
  Arch,
  ArchSource,
  ArmPlatformInfo,
  CacheRegion,
  CellConfig,
  ConfigFile,
  Console,
  DecodeOptions,
  IommuUnit,
  Irqchip,
  MemoryRegion,
  PciCapability,
  PciDevice,
  PioRegion,
  PlatformInfo,
  Revision,
  SystemConfig,
  X86PlatformInfo,
} from './types.js';

/** A decoded configuration and how its architecture was known (`cell-config show` prints it). */
export type DecodeResult = { ok: true; config: ConfigFile; archSource: ArchSource } | { ok: false; problems: Problem[] };

/** Internal: unwinds the decoder to decodeConfig with one problem. */
class DecodeFailure extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

function fail(code: ProblemCode, message: string, offset: number, hint?: string): never {
  throw new DecodeFailure(problem(code, message, hint === undefined ? { offset } : { offset, hint }));
}

const SIG_SYSTEM = 'JHSYS';
const SIG_CELL_V14 = 'JHCLL';
const SIG_CELL_OLD = 'JHCELL';

class Input {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.byteLength;
  }
  /** Fails unless [offset, offset + size) lies inside the input. */
  need(offset: number, size: number, what: string): void {
    if (offset + size > this.length) {
      fail('CELLCFG_TRUNCATED', `file ends at byte ${this.length} (${hex(this.length)}) inside ${what}, which needs bytes ${hex(offset)}..${hex(offset + size)}`, Math.min(offset, this.length), 'the file is cut short; rebuild it or copy it again');
    }
  }
  struct(offset: number, layout: StructLayout, what: string): FieldValues {
    this.need(offset, layout.size, what);
    return readFields(this.view, offset, layout);
  }
  ascii(offset: number, length: number): string {
    return String.fromCharCode(...this.bytes.subarray(offset, offset + length));
  }
}

const num = (v: FieldValues[string] | undefined): number => Number(v ?? 0);
const big = (v: FieldValues[string] | undefined): bigint => (typeof v === 'bigint' ? v : BigInt(Number(v ?? 0)));

function decodeMemory(input: Input, at: number, what: string): MemoryRegion {
  const f = input.struct(at, MEMORY, what);
  return { physStart: big(f.physStart), virtStart: big(f.virtStart), size: big(f.size), flags: bitsToNames(big(f.flags), MEMORY_FLAGS) };
}

function decodeConsole(input: Input, at: number, what: string): Console {
  const f = input.struct(at, CONSOLE, what);
  return {
    address: big(f.address),
    size: num(f.size),
    type: enumToName(num(f.type), CONSOLE_TYPES),
    flags: bitsToNames(num(f.flags), CONSOLE_FLAGS),
    divider: num(f.divider),
    gateNr: num(f.gateNr),
    clockReg: big(f.clockReg),
  };
}

function decodeCache(input: Input, at: number): CacheRegion {
  const f = input.struct(at, CACHE, 'a cache region');
  return { start: num(f.start), size: num(f.size), type: enumToName(num(f.type), CACHE_TYPES), padding: num(f.padding), flags: bitsToNames(num(f.flags), CACHE_FLAGS) };
}

function decodeIrqchip(input: Input, at: number): Irqchip {
  const f = input.struct(at, IRQCHIP, 'an irqchip');
  const bitmap = f.pinBitmap as number[];
  return { address: big(f.address), id: num(f.id), pinBase: num(f.pinBase), pinBitmap: [bitmap[0] ?? 0, bitmap[1] ?? 0, bitmap[2] ?? 0, bitmap[3] ?? 0] };
}

function decodePio(input: Input, at: number): PioRegion {
  const f = input.struct(at, PIO, 'a port I/O region');
  return { base: num(f.base), length: num(f.length) };
}

function decodePciDevice(input: Input, at: number, index: number): PciDevice {
  const f = input.struct(at, PCI_DEVICE, `PCI device ${index}`);
  // A type outside 1..3 is kept as hex: the hypervisor treats it as a device, and the checks report it.
  const type = pciTypeName(num(f.type));
  const mask = f.barMask as number[];
  const msiBits = num(f.msiBits);
  return {
    type,
    iommu: num(f.iommu),
    domain: num(f.domain),
    bdf: num(f.bdf),
    barMask: [mask[0] ?? 0, mask[1] ?? 0, mask[2] ?? 0, mask[3] ?? 0, mask[4] ?? 0, mask[5] ?? 0],
    capsStart: num(f.capsStart),
    numCaps: num(f.numCaps),
    numMsiVectors: num(f.numMsiVectors),
    msi64bits: (msiBits & 1) !== 0,
    msiMaskable: (msiBits & 2) !== 0,
    msiReservedBits: msiBits >> 2,
    numMsixVectors: num(f.numMsixVectors),
    msixRegionSize: num(f.msixRegionSize),
    msixAddress: big(f.msixAddress),
    shmemRegionsStart: num(f.shmemRegionsStart),
    shmemDevId: num(f.shmemDevId),
    shmemPeers: num(f.shmemPeers),
    shmemProtocol: num(f.shmemProtocol),
  };
}

function decodePciCap(input: Input, at: number): PciCapability {
  const f = input.struct(at, PCI_CAPABILITY, 'a PCI capability');
  return { id: num(f.id), start: num(f.start), len: num(f.len), flags: bitsToNames(num(f.flags), PCI_CAP_FLAGS) };
}

function cpusFromBitmap(bitmap: Uint8Array): number[] {
  const cpus: number[] = [];
  bitmap.forEach((byte, i) => {
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) cpus.push(i * 8 + bit);
  });
  return cpus;
}

/** Arrays after a cell header, in file order, with the header field that counts each. */
const CELL_ARRAYS = [
  { count: 'numMemoryRegions', countOffset: 52, size: 32, c: 'num_memory_regions' },
  { count: 'numCacheRegions', countOffset: 56, size: 12, c: 'num_cache_regions' },
  { count: 'numIrqchips', countOffset: 60, size: 32, c: 'num_irqchips' },
  { count: 'numPioRegions', countOffset: 64, size: 4, c: 'num_pio_regions' },
  { count: 'numPciDevices', countOffset: 68, size: 56, c: 'num_pci_devices' },
  { count: 'numPciCaps', countOffset: 72, size: 8, c: 'num_pci_caps' },
  { count: 'numStreamIds', countOffset: 76, size: 4, c: 'num_stream_ids' },
] as const;

/** Decodes the cell header at `base` and its arrays; returns the cell and the offset after it. */
function decodeCellAt(input: Input, base: number, revision: Revision, arch: Arch, isRoot: boolean): { cell: CellConfig; end: number } {
  const what = isRoot ? 'the root cell header' : 'the cell header';
  const h = input.struct(base, cellDescLayout(revision), what);
  // Check every count against the file size before reading anything it describes.
  const cpuSetSize = num(h.cpuSetSize);
  let at = base + 132;
  if (at + cpuSetSize > input.length) {
    fail('CELLCFG_COUNTS_PAST_END', `cpu_set_size ${cpuSetSize} at ${hex(base + 48)} runs past the end of the file (${input.length} bytes)`, base + 48, 'upstream configs use an 8-byte CPU set');
  }
  at += cpuSetSize;
  const starts: number[] = [];
  for (const arr of CELL_ARRAYS) {
    const count = num(h[arr.count]);
    starts.push(at);
    const end = at + count * arr.size;
    if (end > input.length) {
      fail(
        'CELLCFG_COUNTS_PAST_END',
        `${arr.c} = ${count} at ${hex(base + arr.countOffset)} needs ${count * arr.size} bytes from ${hex(at)}, but the file ends at ${hex(input.length)}`,
        base + arr.countOffset,
        'the counts in the cell header must match the arrays that follow it',
      );
    }
    at = end;
  }
  const count = (i: number): number => num(h[CELL_ARRAYS[i]!.count]);
  const each = <T>(i: number, decode: (offset: number, index: number) => T): T[] =>
    Array.from({ length: count(i) }, (_, k) => decode(starts[i]! + k * CELL_ARRAYS[i]!.size, k));

  const nameBytes = h.name as Uint8Array;
  const nul = nameBytes.indexOf(0);
  const cell: CellConfig = {
    kind: 'cell',
    revision,
    arch,
    name: String.fromCharCode(...nameBytes.subarray(0, nul === -1 ? nameBytes.length : nul)),
    id: num(h.id),
    flags: bitsToNames(num(h.flags), CELL_FLAGS),
    cpuSetSize,
    cpus: cpusFromBitmap(input.bytes.subarray(base + 132, base + 132 + cpuSetSize)),
    memoryRegions: each(0, (o, k) => decodeMemory(input, o, `memory region ${k}`)),
    cacheRegions: each(1, (o) => decodeCache(input, o)),
    irqchips: each(2, (o) => decodeIrqchip(input, o)),
    pioRegions: each(3, (o) => decodePio(input, o)),
    pciDevices: each(4, (o, k) => decodePciDevice(input, o, k)),
    pciCaps: each(5, (o) => decodePciCap(input, o)),
    streamIds: each(6, (o) => input.view.getUint32(o, true)),
    vpciIrqBase: num(h.vpciIrqBase),
    cpuResetAddress: big(h.cpuResetAddress),
    msgReplyTimeout: big(h.msgReplyTimeout),
    console: decodeConsole(input, base + 100, 'the cell console'),
  };
  return { cell, end: at };
}

function decodeIommu(input: Input, at: number): IommuUnit {
  const f = input.struct(at, IOMMU, 'an IOMMU unit');
  const typeValue = num(f.type);
  const unit: IommuUnit = { type: enumToName(typeValue, IOMMU_TYPES), base: big(f.base), size: num(f.size) };
  if (typeValue === 1) {
    const a = readFields(input.view, at, IOMMU_AMD);
    unit.amd = { bdf: num(a.bdf), baseCap: num(a.baseCap), msiCap: num(a.msiCap), features: num(a.features) };
  } else if (typeValue === 4) {
    const t = readFields(input.view, at, IOMMU_TIPVU);
    unit.tipvu = { tlbBase: big(t.tlbBase), tlbSize: num(t.tlbSize) };
  }
  // Keep the raw union when the typed view would not write the same bytes (e.g. the MMU-500
  // sid_mask of some revision-13 builds, or stray bytes in an unused slot).
  const raw = f.union as Uint8Array;
  const again = encodeIommuUnion(unit);
  if (!raw.every((b, i) => b === again[i])) {
    delete unit.amd;
    delete unit.tipvu;
    unit.unionBytes = raw;
  }
  return unit;
}

function isAllZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

function decodeIommuArray(input: Input, at: number): IommuUnit[] {
  const units = Array.from({ length: MAX_IOMMU_UNITS }, (_, i) => decodeIommu(input, at + i * IOMMU.size));
  let used = units.length;
  while (used > 0 && isAllZero(input.bytes.subarray(at + (used - 1) * IOMMU.size, at + used * IOMMU.size))) used--;
  return units.slice(0, used);
}

function decodePlatform(input: Input, revision: Revision, arch: Arch, head: FieldValues): PlatformInfo {
  const info: PlatformInfo = {
    pciMmconfigBase: big(head.pciMmconfigBase),
    pciMmconfigEndBus: num(head.pciMmconfigEndBus),
    pciIsVirtual: num(head.pciIsVirtual),
    pciDomain: num(head.pciDomain),
    iommuUnits: [],
  };
  if (arch === 'x86') {
    const layout = revision === 12 ? X86_PLATFORM_V12 : X86_PLATFORM_V13;
    const f = readFields(input.view, 0, layout);
    const x86: X86PlatformInfo = {
      pmTimerAddress: num(f.pmTimerAddress),
      apicMode: enumToName(num(f.apicMode), APIC_MODES),
      vtdInterruptLimit: num(f.vtdInterruptLimit),
      tscKhz: num(f.tscKhz),
      apicKhz: num(f.apicKhz),
    };
    info.x86 = x86;
  } else {
    const layout = revision === 12 ? ARM_PLATFORM_V12 : ARM_PLATFORM_V13;
    const f = readFields(input.view, 0, layout);
    const arm: ArmPlatformInfo = {
      maintenanceIrq: num(f.maintenanceIrq),
      gicVersion: num(f.gicVersion),
      gicdBase: big(f.gicdBase),
      giccBase: big(f.giccBase),
      gichBase: big(f.gichBase),
      gicvBase: big(f.gicvBase),
      gicrBase: big(f.gicrBase),
    };
    info.arm = arm;
  }
  const iommuAt = revision === 12 ? (arch === 'x86' ? 106 : 130) : 88;
  info.iommuUnits = decodeIommuArray(input, iommuAt);
  return info;
}

/** The size a cell header at `base` describes, or undefined when it does not fit the file. */
function describedCellSize(input: Input, base: number): number | undefined {
  if (base + 132 > input.length) return undefined;
  const v = input.view;
  let size = 132 + v.getUint32(base + 48, true);
  for (const arr of CELL_ARRAYS) size += v.getUint32(base + arr.countOffset, true) * arr.size;
  return size;
}

/** How the architecture is known before decoding: given (option, byte), or to be inferred (undefined). */
type Known = { arch: Arch; source: ArchSource } | undefined;

function decided(verdict: ArchVerdict): { arch: Arch; source: ArchSource } {
  // At offset 0: what identifies the file as one without the architecture byte.
  if (!verdict.ok) throw new DecodeFailure({ ...verdict.problem, offset: 0 });
  return { arch: verdict.arch, source: { how: 'inferred', reasons: verdict.reasons } };
}

/** Fails on the short-lived early revision-13 layout, which put the root cell at 354. */
function refuseRev13Early(input: Input): void {
  // Tell it apart by which offset explains the file size.
  const final = describedCellSize(input, 356);
  const early = describedCellSize(input, 354);
  if (final !== undefined && early !== undefined && 356 + final !== input.length && 354 + early === input.length) {
    fail('CELLCFG_REV13_EARLY', 'this revision-13 system file uses the early layout of commit b9df7b98 (root cell at 354), which crtosd does not read', 354, 'rebuild the configuration with a later Jailhouse, or with revision 14');
  }
}

function decodeSystem(input: Input, revision: Revision, known: Known): { config: SystemConfig; archSource: ArchSource } {
  const headerSize = systemHeaderSize(revision);
  input.need(0, headerSize + 132, 'the system header');
  if (revision === 13) refuseRev13Early(input);
  const head = readFields(input.view, 0, systemLayout(revision));
  // A cell's bytes mean the same on every architecture, so the root cell is read before the
  // architecture is known (and then labelled with it).
  const { cell: rootCell, end } = decodeCellAt(input, headerSize, revision, known?.arch ?? 'x86', true);
  const debugConsole = decodeConsole(input, 44, 'the debug console');
  const { arch, source } =
    known ??
    decided(
      archVerdict(
        systemClues(input.view, revision === 12 ? 12 : 13, debugConsole, revision === 12 ? undefined : decodeIommuArray(input, 88), rootCell),
        `this revision-${revision} system configuration carries no architecture byte`,
        SYSTEM_LOOKED_AT,
        ARCH_HINT_SYSTEM,
      ),
    );
  rootCell.arch = arch;
  const system: SystemConfig = {
    kind: 'system',
    revision,
    arch,
    flags: bitsToNames(num(head.flags), SYSTEM_FLAGS),
    hypervisorMemory: decodeMemory(input, 12, 'the hypervisor memory'),
    debugConsole,
    platformInfo: decodePlatform(input, revision, arch, head),
    rootCell,
  };
  if (end < input.length) system.trailing = input.bytes.slice(end);
  return { config: system, archSource: source };
}

function decodeCell(input: Input, revision: Revision, known: Known): { config: CellConfig; archSource: ArchSource } {
  const { cell, end } = decodeCellAt(input, 0, revision, known?.arch ?? 'x86', false);
  if (end < input.length) cell.trailing = input.bytes.slice(end);
  const { arch, source } = known ?? decided(archVerdict(cellClues(cell, `cell '${cell.name}'`, false), `this revision-${revision} cell configuration carries no architecture byte`, CELL_LOOKED_AT, ARCH_HINT_CELL));
  cell.arch = arch;
  return { config: cell, archSource: source };
}

function archFromByte(input: Input): Arch {
  const byte = input.bytes[5] ?? 0;
  const arch = ARCHITECTURES.find(([, v]) => v === byte)?.[0];
  if (arch === undefined) fail('CELLCFG_BAD_ARCH', `architecture byte is ${byte}; expected 0 (x86), 1 (arm) or 2 (arm64)`, 5);
  return arch;
}

function oldRevision(input: Input): Revision {
  const revision = input.view.getUint16(6, true);
  if (revision !== 12 && revision !== 13) {
    fail('CELLCFG_UNKNOWN_REVISION', `revision is ${revision}; a file with a 6-byte signature must be revision 12 or 13`, 6, revision === 14 ? 'revision 14 files start with JHSYS/JHCLL and an architecture byte' : undefined);
  }
  return revision;
}

function newRevision(input: Input): 14 {
  const revision = input.view.getUint16(6, true);
  if (revision !== 14) {
    fail('CELLCFG_UNKNOWN_REVISION', `revision is ${revision}; a file with a 5-byte signature and an architecture byte must be revision 14`, 6, 'crtosd reads revisions 12, 13 and 14');
  }
  return 14;
}

function decodeOrThrow(bytes: Uint8Array, opts: DecodeOptions): { config: ConfigFile; archSource: ArchSource } {
  const input = new Input(bytes);
  input.need(0, 8, 'the signature and revision');
  const sig6 = input.ascii(0, 6);
  const sig5 = input.ascii(0, 5);
  const given: Known = opts.arch ? { arch: opts.arch, source: { how: 'given' } } : undefined;
  // "JHSYS" is a prefix of "JHSYST": byte 5 is 'T' in old files and the architecture byte in new ones.
  if (sig6 === 'JHSYST') return decodeSystem(input, oldRevision(input), given);
  if (sig6 === SIG_CELL_OLD) return decodeCell(input, oldRevision(input), given);
  // Revision 14 says its architecture itself, whatever the caller thinks.
  if (sig5 === SIG_SYSTEM) {
    const arch = archFromByte(input);
    return decodeSystem(input, newRevision(input), { arch, source: { how: 'byte' } });
  }
  if (sig5 === SIG_CELL_V14) {
    const arch = archFromByte(input);
    return decodeCell(input, newRevision(input), { arch, source: { how: 'byte' } });
  }
  return fail('CELLCFG_BAD_SIGNATURE', `signature is ${JSON.stringify(sig6)}; expected "JHSYS"/"JHCLL" (revision 14) or "JHSYST"/"JHCELL" (revisions 12, 13)`, 0, 'is this a Jailhouse .cell file built from a C configuration?');
}

/** Decodes a system or cell configuration. Never throws: bad input yields problems with offsets. */
export function decodeConfig(bytes: Uint8Array, opts: DecodeOptions = {}): DecodeResult {
  try {
    return { ok: true, ...decodeOrThrow(bytes, opts) };
  } catch (e) {
    if (e instanceof DecodeFailure) return { ok: false, problems: [e.problem] };
    return { ok: false, problems: [problem('CELLCFG_INTERNAL', `decoder failed: ${e instanceof Error ? e.message : String(e)}`)] };
  }
}
