/**
 * The architecture of a revision-12/13 file, which carries no architecture byte, told from what
 * the file says. Every clue is a fact that rules architectures out: a field value the other
 * architecture's hypervisor refuses or cannot mean (a GIC version outside 2/3, a non-zero x86
 * padding byte, pin_base 32 on x86, a port I/O UART on ARM, an SMMU on x86 or 32-bit ARM). The
 * architecture is known when exactly one survives; otherwise the file is refused, never guessed.
 *
 * Not clues: addresses above 4 GiB in memory regions (32-bit ARM with LPAE maps them too), and
 * anything 32-bit and 64-bit ARM lay out and interpret alike (GIC, UARTs, irqchips). So a 32-bit
 * ARM file can never be told from a 64-bit one by its bytes alone: only arm64-only features
 * (SMMU/PVU units, stream ids, the AArch32 flag, a start address a 32-bit CPU cannot reach) say arm64.
 */
import { problem, type Problem } from '../errors/problem.js';
import { ARM_PLATFORM_V12, ARM_PLATFORM_V13, IOMMU, MAX_IOMMU_UNITS, X86_PLATFORM_V12, X86_PLATFORM_V13, readFields, systemHeaderSize, type StructLayout } from './layout.js';
import { IOMMU_TYPES, enumToName, hex } from './flags.js';
import type { Arch, CellConfig, ConfigFile, Console, IommuUnit } from './types.js';

/** A fact of the file and the architectures it rules out. */
export interface Clue {
  /** What the file says: "root cell irqchip 0 has pinBase 32". */
  fact: string;
  /** Why that rules architectures out: "x86 requires 0". */
  because: string;
  rulesOut: readonly Arch[];
}

const ARCHES: readonly Arch[] = ['x86', 'arm', 'arm64'];
const ARM: readonly Arch[] = ['arm', 'arm64'];
const NOT_ARM64: readonly Arch[] = ['x86', 'arm'];

/** UARTs only the ARM hypervisors drive (x86 knows 8250 and the EFI framebuffer). */
const ARM_CONSOLES = ['PL011', 'XUARTPS', 'MVEBU', 'HSCIF', 'SCIFA', 'IMX', 'IMX_LPUART', 'SCIF'];
/** IOMMUs only the arm64 hypervisor drives; 32-bit ARM has none, x86 has AMD and Intel ones. */
const ARM64_IOMMUS = ['SMMUV3', 'PVU', 'ARM_MMU500'];
const X86_IOMMUS = ['AMD', 'INTEL'];

const PAGE = 0x1000n;

export function consoleClues(c: Console, label: string): Clue[] {
  if (ARM_CONSOLES.includes(c.type)) return [{ fact: `${label} is a ${c.type}`, because: 'x86 has only 8250 UARTs and the EFI framebuffer', rulesOut: ['x86'] }];
  if (c.type === 'EFIFB') return [{ fact: `${label} is the EFI framebuffer`, because: 'only x86 has that console', rulesOut: ARM }];
  if (c.type === '8250' && !c.flags.includes('ACCESS_MMIO')) {
    return [{ fact: `${label} is an 8250 on port I/O (no ACCESS_MMIO)`, because: 'port I/O exists only on x86', rulesOut: ARM }];
  }
  return [];
}

export function iommuTypeClues(units: readonly IommuUnit[]): Clue[] {
  return units.flatMap((u, i): Clue[] => {
    if (ARM64_IOMMUS.includes(u.type)) return [{ fact: `IOMMU unit ${i} is ${u.type}`, because: 'only the arm64 hypervisor drives SMMU and PVU units', rulesOut: NOT_ARM64 }];
    if (X86_IOMMUS.includes(u.type)) return [{ fact: `IOMMU unit ${i} is ${u.type}`, because: 'AMD and Intel IOMMUs exist only on x86', rulesOut: ARM }];
    return [];
  });
}

/** Clues of a cell body; `label` names it ("root cell", "cell 'x'"). */
export function cellClues(cell: CellConfig, label: string, isRoot: boolean): Clue[] {
  const clues: Clue[] = [];
  cell.irqchips.forEach((chip, i) => {
    if (chip.pinBase !== 0) clues.push({ fact: `${label} irqchip ${i} has pinBase ${chip.pinBase}`, because: 'x86 requires 0', rulesOut: ['x86'] });
    if (chip.pinBase % 32 !== 0) clues.push({ fact: `${label} irqchip ${i} has pinBase ${chip.pinBase}`, because: 'ARM requires a multiple of 32', rulesOut: ARM });
  });
  if (cell.pioRegions.length > 0) clues.push({ fact: `${label} has ${cell.pioRegions.length} port I/O region(s)`, because: 'port I/O exists only on x86', rulesOut: ARM });
  if (cell.streamIds.length > 0) clues.push({ fact: `${label} has ${cell.streamIds.length} stream id(s)`, because: 'only arm64 has the IOMMUs that use them', rulesOut: NOT_ARM64 });
  if (cell.flags.includes('AARCH32')) clues.push({ fact: `${label} has the AARCH32 flag`, because: 'only the arm64 hypervisor reads it', rulesOut: NOT_ARM64 });
  if (cell.flags.includes('TEST_DEVICE')) clues.push({ fact: `${label} has the TEST_DEVICE flag`, because: 'the test device exists only on x86', rulesOut: ARM });
  // The address the first CPU starts at with its MMU off: a 32-bit ARM program counter cannot
  // hold it above 4 GiB (unlike a memory region's address, which LPAE can map). The root cell's
  // is never used.
  if (!isRoot && cell.cpuResetAddress >= 1n << 32n && !cell.flags.includes('AARCH32')) {
    clues.push({ fact: `${label} starts at ${hex(cell.cpuResetAddress)}`, because: 'a 32-bit ARM CPU cannot start above 4 GiB', rulesOut: ['arm'] });
  }
  clues.push(...consoleClues(cell.console, `${label} console`));
  return clues;
}

/** End of the last field of `layout` (its bytes after that are unused). */
const endOf = (layout: StructLayout): number => Math.max(...layout.fields.map((f) => f.offset + f.size));

/** A non-zero byte in [from, to), or undefined. */
function nonZeroAt(view: DataView, from: number, to: number): number | undefined {
  for (let at = from; at < to; at++) if (view.getUint8(at) !== 0) return at;
  return undefined;
}

/** What the platform info says read as x86: padding and unused bytes are zero, apic_mode is 0..2. */
function x86PlatformClues(view: DataView, revision: 12 | 13): Clue[] {
  const layout = revision === 12 ? X86_PLATFORM_V12 : X86_PLATFORM_V13;
  const f = readFields(view, 0, layout);
  const clues: Clue[] = [];
  const apicMode = Number(f.apicMode);
  const modeAt = layout.fields.find((x) => x.name === 'apicMode')!.offset;
  if (apicMode > 2) clues.push({ fact: `read as x86, apic_mode at ${hex(modeAt)} is ${apicMode}`, because: 'x86 knows modes 0..2', rulesOut: ['x86'] });
  const pad = layout.fields.find((x) => x.name === 'padding')!;
  const padAt = nonZeroAt(view, pad.offset, pad.offset + pad.size);
  if (padAt !== undefined) clues.push({ fact: `read as x86, padding byte ${hex(padAt)} is not zero`, because: 'x86 configurations leave it zero', rulesOut: ['x86'] });
  const unusedAt = nonZeroAt(view, endOf(layout), systemHeaderSize(revision));
  if (unusedAt !== undefined) {
    clues.push({ fact: `byte ${hex(unusedAt)} of the platform info is ${hex(view.getUint8(unusedAt))}`, because: `x86 does not use ${hex(endOf(layout))}..${hex(systemHeaderSize(revision))} and leaves it zero`, rulesOut: ['x86'] });
  }
  if (revision === 12) {
    // Revision 12 keeps the IOMMU units inside each architecture's struct: read them where x86 has them.
    const at = X86_PLATFORM_V12.fields.find((x) => x.name === 'iommuUnits')!.offset;
    for (let i = 0; i < MAX_IOMMU_UNITS; i++) {
      const type = view.getUint32(at + i * IOMMU.size, true);
      if (type > 2) clues.push({ fact: `read as x86, IOMMU unit ${i} has type ${enumToName(type, IOMMU_TYPES)}`, because: 'x86 has only AMD and Intel units', rulesOut: ['x86'] });
    }
  }
  return clues;
}

/** What the platform info says read as ARM: a GIC version and plausible GIC register bases. */
function armPlatformClues(view: DataView, revision: 12 | 13): Clue[] {
  const layout = revision === 12 ? ARM_PLATFORM_V12 : ARM_PLATFORM_V13;
  const f = readFields(view, 0, layout);
  const at = (name: string): string => hex(layout.fields.find((x) => x.name === name)!.offset);
  const clues: Clue[] = [];
  const no = (fact: string, because: string): void => void clues.push({ fact: `read as ARM, ${fact}`, because, rulesOut: ARM });
  const maint = Number(f.maintenanceIrq);
  if (maint < 16 || maint > 31) no(`maintenance_irq at ${at('maintenanceIrq')} is ${maint}`, 'the GIC maintenance interrupt is a PPI (16..31)');
  const gic = Number(f.gicVersion);
  if (gic !== 2 && gic !== 3) no(`gic_version at ${at('gicVersion')} is ${gic}`, 'the ARM hypervisors know GIC versions 2 and 3');
  const base = (name: string): void => {
    const v = f[name] as bigint;
    if (v === 0n || v % PAGE !== 0n) no(`${name.replace(/Base$/, '_base').toLowerCase()} at ${at(name)} is ${hex(v)}`, 'a GIC register frame is a non-zero, page-aligned address');
  };
  base('gicdBase');
  if (gic === 2) ['giccBase', 'gichBase', 'gicvBase'].forEach(base);
  if (gic === 3) base('gicrBase');
  if (revision === 13) {
    const pad = layout.fields.find((x) => x.name === 'padding')!;
    const padAt = nonZeroAt(view, pad.offset, pad.offset + pad.size);
    if (padAt !== undefined) no(`padding byte ${hex(padAt)} is not zero`, 'ARM configurations leave it zero');
  } else {
    const unitsAt = ARM_PLATFORM_V12.fields.find((x) => x.name === 'iommuUnits')!.offset;
    for (let i = 0; i < MAX_IOMMU_UNITS; i++) {
      const type = view.getUint32(unitsAt + i * IOMMU.size, true);
      const name = enumToName(type, IOMMU_TYPES);
      if (type === 1 || type === 2 || type > 5) no(`IOMMU unit ${i} has type ${name}`, 'ARM has only SMMU and PVU units');
      // Meaningful only if the file is ARM (x86 has other bytes there), so it rules out 32-bit ARM alone.
      else if (ARM64_IOMMUS.includes(name)) clues.push({ fact: `read as ARM, IOMMU unit ${i} is ${name}`, because: 'only the arm64 hypervisor drives SMMU and PVU units', rulesOut: ['arm'] });
    }
  }
  return clues;
}

/**
 * Clues of a revision-12/13 system configuration: its platform info read both ways, its IOMMU
 * units (revision 13 keeps them where every architecture has them), its debug console, its root cell.
 */
export function systemClues(view: DataView, revision: 12 | 13, debugConsole: Console, iommuUnits: readonly IommuUnit[] | undefined, rootCell: CellConfig): Clue[] {
  return [
    ...x86PlatformClues(view, revision),
    ...armPlatformClues(view, revision),
    ...(iommuUnits ? iommuTypeClues(iommuUnits) : []),
    ...consoleClues(debugConsole, 'the debug console'),
    ...cellClues(rootCell, 'root cell', true),
  ];
}

/**
 * Clues of a description (YAML) that does not write `arch`: the platform info section it writes
 * (`platformInfo.x86` or `.arm`), and what a file's bytes would say besides the platform info.
 */
export function describedClues(config: ConfigFile, platformWritten: 'x86' | 'arm' | undefined): Clue[] {
  if (config.kind === 'cell') return cellClues(config, `cell '${config.name}'`, false);
  const platform: Clue[] =
    platformWritten === 'arm'
      ? [{ fact: 'the description writes platformInfo.arm', because: 'x86 has its own platform info', rulesOut: ['x86'] }]
      : platformWritten === 'x86'
        ? [{ fact: 'the description writes platformInfo.x86', because: 'ARM has its own platform info', rulesOut: ARM }]
        : [];
  return [...platform, ...iommuTypeClues(config.platformInfo.iommuUnits), ...consoleClues(config.debugConsole, 'the debug console'), ...cellClues(config.rootCell, 'root cell', true)];
}

export const DESCRIPTION_LOOKED_AT = 'its platformInfo section, IOMMU unit types, consoles, and the irqchips, port I/O regions, stream ids, flags and CPU reset address of its cells';
export const ARCH_HINT_DESCRIPTION = 'write arch: x86|arm|arm64 in the description, or pass --arch';

export const SYSTEM_LOOKED_AT = 'its platform info (GIC version and register bases as ARM; APIC mode, padding and unused bytes as x86), IOMMU unit types, debug console, and the root cell\'s irqchips, port I/O regions, stream ids, flags and console';
export const CELL_LOOKED_AT = 'its irqchips, port I/O regions, stream ids, flags, console and CPU reset address';

export type ArchVerdict = { ok: true; arch: Arch; reasons: string[] } | { ok: false; problem: Problem };

const say = (c: Clue): string => `${c.fact} (${c.because})`;

/**
 * The one architecture no clue rules out, with the first clue that ruled out each other one;
 * otherwise a CELLCFG_ARCH_UNKNOWN problem saying what was looked at and what was found.
 * `subject` says what lacks the architecture ("this revision-13 cell configuration carries no
 * architecture byte").
 */
export function archVerdict(clues: readonly Clue[], subject: string, lookedAt: string, hint: string): ArchVerdict {
  const left = ARCHES.filter((a) => !clues.some((c) => c.rulesOut.includes(a)));
  if (left.length === 1) {
    const reasons = ARCHES.filter((a) => a !== left[0]).map((a) => say(clues.find((c) => c.rulesOut.includes(a))!));
    return { ok: true, arch: left[0]!, reasons: [...new Set(reasons)] };
  }
  const found = [...new Set(clues.map(say))];
  const message =
    left.length === 0
      ? `${subject}, and what it says rules out every architecture: ${found.join('; ')}`
      : `${subject}, and nothing in it tells ${left.join(' from ')}${
          left.length === 2 && left.includes('arm') && left.includes('arm64') ? ' (both lay the file out the same way)' : ''
        }; looked at ${lookedAt}${found.length > 0 ? `; found: ${found.join('; ')}` : ''}`;
  return { ok: false, problem: problem('CELLCFG_ARCH_UNKNOWN', message, { hint }) };
}

export const ARCH_HINT_CELL = 'pass --arch x86|arm|arm64, or --system SYSTEM.cell to take it from the system configuration the cell belongs to';
export const ARCH_HINT_SYSTEM = 'pass --arch x86|arm|arm64';
