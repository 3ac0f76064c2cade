/**
 * Consistency checks over one configuration set (a system configuration, the non-root cells that
 * will run on it, and optionally the images loaded into them). Pure: configurations in, problems
 * out. Covers what upstream `jailhouse config check` finds, plus what neither upstream's checker
 * nor the driver or hypervisor verify (CPU conflicts, memory shared between non-root cells or
 * outside the system's RAM, regions off pages, ivshmem link consistency (check-ivshmem.ts),
 * images that do not fit).
 */
import type { Problem } from '../errors/problem.js';
import type { ProblemCode } from '../errors/codes.js';
import { systemHeaderSize } from './layout.js';
import { cellConfigSize } from './encode.js';
import { PCI_TYPES } from './flags.js';
import { formatBdf, formatCpuList, formatHex } from './values.js';
import { Findings, cellLabel, describeRange, has, isComm, overlaps, pciOffset, phys, virt, type Member, type Range } from './check-members.js';
import { checkIvshmem } from './check-ivshmem.js';
import type { CellConfig, ConfigFile, SystemConfig } from './types.js';

export interface CheckInput {
  system: { file: string; config: SystemConfig };
  cells: { file: string; config: CellConfig }[];
  /** Images by cell name, with their size in bytes and guest (virtual) load address. */
  images?: { cell: string; file: string; size: number; address: bigint }[];
  /**
   * Memory reserved for cells that no root cell region lists (e.g. a pool links are carved from,
   * kept from Linux as `--mem-inmates` memory is): cell memory there is the system's RAM too.
   */
  inmateMemory?: { start: bigint; size: bigint }[];
}

// ---------------------------------------------------------------------------------------------
// What upstream `jailhouse config check` checks

function checkOverlapsInCell(f: Findings, m: Member): void {
  const regions = m.cell.memoryRegions;
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const a = regions[i]!;
      const b = regions[j]!;
      const p = !isComm(a) && !isComm(b) && overlaps(phys(a), phys(b));
      const v = overlaps(virt(a), virt(b));
      if (!p && !v) continue;
      const how = p && v ? 'physically and virtually' : p ? 'physically' : 'virtually';
      f.region('CELLCFG_OVERLAP_IN_CELL', m, i, `${describeRange(p ? phys(a) : virt(a))} ${how} overlaps with region ${j} (${describeRange(p ? phys(b) : virt(b))})`, 'split or move one of the regions');
    }
  }
}

/** Address ranges the hypervisor must keep for itself or intercept, with their names. */
function reservedRanges(sys: SystemConfig, f: Findings, file: string): { code: ProblemCode; name: string; range: Range }[] {
  const out: { code: ProblemCode; name: string; range: Range }[] = [];
  out.push({ code: 'CELLCFG_OVERLAP_HYPERVISOR', name: 'hypervisor memory', range: phys(sys.hypervisorMemory) });
  const info = sys.platformInfo;
  if (info.pciMmconfigBase > 0n) {
    out.push({ code: 'CELLCFG_OVERLAP_MMCONFIG', name: 'MMCONFIG', range: { start: info.pciMmconfigBase, size: BigInt(info.pciMmconfigEndBus + 1) * 256n * 4096n } });
  }
  info.iommuUnits.forEach((u, i) => {
    if (u.type !== 'UNUSED' && u.size > 0) out.push({ code: 'CELLCFG_OVERLAP_IOMMU', name: `IOMMU unit ${i}`, range: { start: u.base, size: BigInt(u.size) } });
  });
  if (sys.arch === 'x86') {
    out.push({ code: 'CELLCFG_OVERLAP_IRQCHIP', name: 'xAPIC', range: { start: 0xfee00000n, size: 0x1000n } });
    sys.rootCell.irqchips.forEach((chip) => out.push({ code: 'CELLCFG_OVERLAP_IRQCHIP', name: `IOAPIC at ${formatHex(chip.address)}`, range: { start: chip.address, size: 0x1000n } }));
  } else if (info.arm) {
    const arm = info.arm;
    if (arm.gicVersion === 2) {
      out.push({ code: 'CELLCFG_OVERLAP_IRQCHIP', name: 'GICD', range: { start: arm.gicdBase, size: 0x1000n } });
      out.push({ code: 'CELLCFG_OVERLAP_IRQCHIP', name: 'GICC', range: { start: arm.giccBase, size: 0x2000n } });
      out.push({ code: 'CELLCFG_OVERLAP_IRQCHIP', name: 'GICH', range: { start: arm.gichBase, size: 0x2000n } });
      out.push({ code: 'CELLCFG_OVERLAP_IRQCHIP', name: 'GICV', range: { start: arm.gicvBase, size: 0x2000n } });
    } else if (arm.gicVersion === 3) {
      out.push({ code: 'CELLCFG_OVERLAP_IRQCHIP', name: 'GICD', range: { start: arm.gicdBase, size: 0x10000n } });
      out.push({ code: 'CELLCFG_OVERLAP_IRQCHIP', name: 'GICR', range: { start: arm.gicrBase, size: 0x20000n } });
    } else {
      f.add('CELLCFG_UNKNOWN_GIC', { file }, `GIC version ${arm.gicVersion} is neither 2 nor 3, so its registers were not checked`, { offset: sys.revision === 12 ? 89 : 313 });
    }
  }
  return out;
}

function checkReserved(f: Findings, members: readonly Member[], reserved: ReturnType<typeof reservedRanges>): void {
  for (const m of members) {
    m.cell.memoryRegions.forEach((region, i) => {
      if (isComm(region)) return;
      for (const r of reserved) {
        if (overlaps(phys(region), r.range)) {
          f.region(r.code, m, i, `${describeRange(phys(region))} overlaps with ${r.name} (${describeRange(r.range)})`, 'the hypervisor must own or intercept this range; leave it out of the cell');
        }
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// What nothing upstream checks

function checkCpus(f: Findings, root: Member, cells: readonly Member[], arch: SystemConfig['arch']): void {
  const rootCpus = new Set(root.cell.cpus);
  const taken = new Set<number>();
  cells.forEach((m, i) => {
    if (m.cell.cpus.length === 0) f.add('CELLCFG_NO_CPU', m, `${cellLabel(m)} has no CPU`, { offset: m.base + 132, hint: "list the cell's CPUs in 'cpus'" });
    const foreign = m.cell.cpus.filter((c) => !rootCpus.has(c));
    if (foreign.length > 0) {
      f.add('CELLCFG_CPU_NOT_IN_ROOT', m, `${cellLabel(m)} claims CPU ${formatCpuList(foreign)}, which the root cell '${root.cell.name}' does not own`, { offset: m.base + 132, hint: 'a cell can only take CPUs from the root cell' });
    }
    if (arch === 'x86' && m.cell.cpus.includes(0)) {
      f.add('CELLCFG_CPU0_GIVEN_AWAY', m, `${cellLabel(m)} claims CPU 0, which must stay with the root cell on x86`, { offset: m.base + 132, hint: 'the driver refuses it: "Cannot assign CPU 0 to other cells"' });
    }
    for (const other of cells.slice(i + 1)) {
      const shared = m.cell.cpus.filter((c) => other.cell.cpus.includes(c));
      if (shared.length > 0) {
        f.add('CELLCFG_CPU_SHARED', m, `${cellLabel(m)} and ${cellLabel(other)} (${other.file}) share CPU ${formatCpuList(shared)}`, { offset: m.base + 132, hint: 'the second cell create fails with EBUSY; give each cell its own CPUs' });
      }
    }
    m.cell.cpus.forEach((c) => taken.add(c));
  });
  if (cells.length > 0 && root.cell.cpus.every((c) => taken.has(c))) {
    f.add('CELLCFG_ROOT_STARVED', root, `no CPU is left for root cell '${root.cell.name}' (CPUs ${formatCpuList(root.cell.cpus)}) when all non-root cells run`, { offset: root.base + 132, hint: 'keep at least one CPU in the root cell' });
  }
}

function checkSharedMemory(f: Findings, cells: readonly Member[]): void {
  cells.forEach((a, ai) => {
    for (const b of cells.slice(ai + 1)) {
      a.cell.memoryRegions.forEach((ra, i) => {
        if (isComm(ra)) return;
        b.cell.memoryRegions.forEach((rb, j) => {
          if (isComm(rb) || !overlaps(phys(ra), phys(rb))) return;
          if (has(ra, 'ROOTSHARED') && has(rb, 'ROOTSHARED')) return;
          f.region('CELLCFG_MEMORY_SHARED', a, i, `${describeRange(phys(ra))} is also mapped by ${cellLabel(b)} (${b.file}), region ${j}, and not both are ROOTSHARED`, 'mark memory shared between cells ROOTSHARED in both, or give each cell its own');
        });
      });
    }
  });
}

function checkNames(f: Findings, members: readonly Member[]): void {
  members.forEach((m, i) => {
    const twin = members.slice(0, i).find((o) => o.cell.name === m.cell.name);
    if (twin) f.add('CELLCFG_DUPLICATE_NAME', m, `${cellLabel(m)} has the same name as the cell in ${twin.file}`, { offset: m.base + 8, hint: 'the driver refuses a second cell of the same name (EEXIST)' });
  });
}

const PAGE = 0x1000n;

/**
 * Memory regions off 4 KiB pages. The hypervisor maps memory by pages; a region whose guest
 * address or size is off a page becomes an emulated sub-page region, where only IO regions with an
 * access width work (every access to another one faults), and a physical start off a page is
 * mapped from the wrong address. IO regions may be sub-page; the comm region's physical start is
 * ignored.
 */
function checkPageAlignment(f: Findings, m: Member): void {
  m.cell.memoryRegions.forEach((r, i) => {
    if (has(r, 'IO') || r.size === 0n) return;
    const fields: [string, bigint][] = [
      ['physStart', isComm(r) ? 0n : r.physStart],
      ['virtStart', r.virtStart],
      ['size', r.size],
    ];
    const off = fields.filter(([, v]) => v % PAGE !== 0n).map(([name, v]) => `${name} ${formatHex(v)}`);
    if (off.length === 0) return;
    f.region(
      'CELLCFG_NOT_PAGE_ALIGNED',
      m,
      i,
      `${off.join(', ')} ${off.length === 1 ? 'is' : 'are'} not a multiple of 4 KiB (${describeRange(phys(r))}${r.virtStart === r.physStart ? '' : ` at ${formatHex(r.virtStart)}`})`,
      'the hypervisor maps memory in 4 KiB pages: round the region to pages (only IO regions with an IO_8..IO_64 width may be smaller)',
    );
  });
}

/** The parts of `r` that no range of `cover` contains. */
function uncovered(r: Range, cover: readonly Range[]): Range[] {
  let gaps: Range[] = [r];
  for (const c of cover) {
    if (c.size === 0n) continue;
    const cEnd = c.start + c.size;
    gaps = gaps.flatMap((g) => {
      const gEnd = g.start + g.size;
      if (!overlaps(g, c)) return [g];
      const parts: Range[] = [];
      if (g.start < c.start) parts.push({ start: g.start, size: c.start - g.start });
      if (cEnd < gEnd) parts.push({ start: cEnd, size: gEnd - cEnd });
      return parts;
    });
  }
  return gaps;
}

/**
 * Non-root memory (RAM or shared, not IO, not the comm region) outside every memory region of the
 * root cell and the inmate memory the caller names. Jailhouse does not check it, but such memory
 * is not the system's RAM as the configurations know it, so nothing says Linux keeps its hands off
 * it. The inmate memory a cell takes is a root cell region upstream (`jailhouse config create
 * --mem-inmates`), and ivshmem memory is mapped by both sides, so correct sets pass.
 */
function checkRamInSystem(f: Findings, root: Member, cells: readonly Member[], inmateMemory: readonly Range[]): void {
  const system = [...root.cell.memoryRegions.filter((r) => !isComm(r)).map(phys), ...inmateMemory];
  const where = `no memory region of ${cellLabel(root)} (${root.file})${inmateMemory.length > 0 ? ' nor in the inmate memory' : ''}`;
  for (const m of cells) {
    m.cell.memoryRegions.forEach((r, i) => {
      if (isComm(r) || has(r, 'IO') || r.size === 0n) return;
      const gaps = uncovered(phys(r), system);
      if (gaps.length === 0) return;
      f.region(
        'CELLCFG_RAM_OUTSIDE_SYSTEM',
        m,
        i,
        `${describeRange(phys(r))} lies outside the system's RAM: ${gaps.map(describeRange).join(', ')} ${gaps.length === 1 ? 'is' : 'are'} in ${where}`,
        "list the memory in the root cell's configuration (the inmate memory reserved from Linux), or move the region into memory it lists",
      );
    });
  }
}

const PCI_TYPE_NAMES: readonly string[] = PCI_TYPES.map(([name]) => name);

/** PCI devices of a type outside 1..3: the hypervisor takes them for devices (type 1). */
function checkPciTypesOf(f: Findings, m: Member): void {
  m.cell.pciDevices.forEach((d, i) => {
    if (PCI_TYPE_NAMES.includes(d.type)) return;
    f.add('CELLCFG_PCI_TYPE_UNKNOWN', m, `${cellLabel(m)}, PCI device ${i} (${formatBdf(d.bdf)}): type ${d.type} is not 1 (device), 2 (bridge) or 3 (ivshmem); the hypervisor treats it as a device`, {
      offset: pciOffset(m, i),
      severity: 'warning',
      hint: 'write type: device if a device is meant',
    });
  });
}

/** The findings about one configuration's PCI device types, for `cell-config show` to print beside it. */
export function checkPciTypes(config: ConfigFile, file: string): Problem[] {
  const f = new Findings();
  const m: Member =
    config.kind === 'system'
      ? { file, cell: config.rootCell, isRoot: true, base: systemHeaderSize(config.revision) }
      : { file, cell: config, isRoot: false, base: 0 };
  checkPciTypesOf(f, m);
  return f.list;
}

/** Rules the hypervisor enforces at cell create, so a violation fails there with EINVAL/E2BIG. */
function checkHypervisorRules(f: Findings, m: Member, arch: SystemConfig['arch']): void {
  const c = m.cell;
  const irqAt = m.base + 132 + c.cpuSetSize + 32 * c.memoryRegions.length + 12 * c.cacheRegions.length;
  c.irqchips.forEach((chip, i) => {
    const bad = arch === 'x86' ? chip.pinBase !== 0 : chip.pinBase % 32 !== 0;
    if (bad) {
      f.add('CELLCFG_IRQCHIP_PIN_BASE', m, `${cellLabel(m)}, irqchip ${i}: pinBase ${chip.pinBase} ${arch === 'x86' ? 'must be 0 on x86' : 'must be a multiple of 32'}`, { offset: irqAt + 32 * i + 12 });
    }
  });
  // The hypervisor maps at most 16 pages to read a non-root cell's configuration (page offset included).
  const size = cellConfigSize(c);
  if (!m.isRoot && size > 16 * 4096 - 4096) {
    f.add('CELLCFG_TOO_BIG', m, `${cellLabel(m)} is ${size} bytes; the hypervisor may not be able to map more than 60 KiB of it`, {
      offset: 0,
      severity: size > 16 * 4096 ? undefined : 'warning',
      hint: 'hypervisor limit: the configuration must fit 16 pages including its offset in the first page (E2BIG)',
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Images

function checkImages(f: Findings, cells: readonly Member[], images: NonNullable<CheckInput['images']>): void {
  for (const image of images) {
    const m = cells.find((c) => c.cell.name === image.cell);
    const what = `image ${image.file} (${image.size} bytes at ${formatHex(image.address)})`;
    if (!m) {
      f.add('CELLCFG_IMAGE_CELL', { file: image.file }, `${what} is for cell '${image.cell}', which is not a non-root cell of this set`, { hint: `cells: ${cells.map((c) => c.cell.name).join(', ') || 'none'}` });
      continue;
    }
    if (image.size === 0) continue;
    const size = BigInt(image.size);
    const index = m.cell.memoryRegions.findIndex((r) => has(r, 'WRITE') && has(r, 'LOADABLE') && r.virtStart <= image.address && image.address < r.virtStart + r.size);
    if (index === -1) {
      f.add('CELLCFG_IMAGE_FIT', m, `${what}: no WRITE|LOADABLE region of ${cellLabel(m)} contains the load address`, {
        hint: 'load addresses are guest (virtual) addresses; the driver refuses the load with EINVAL',
      });
      continue;
    }
    const region = m.cell.memoryRegions[index]!;
    const end = region.virtStart + region.size;
    if (image.address + size > end) {
      f.region('CELLCFG_IMAGE_FIT', m, index, `${what} runs ${image.address + size - end} bytes past the end of the region (${describeRange(virt(region))})`, 'make the region larger or the image smaller');
    }
  }
}

/**
 * Where a cell is for another architecture or revision than its system configuration: Jailhouse
 * ignores a cell of another architecture and refuses one of another revision.
 */
export function targetMismatches(system: CheckInput['system'], cell: CheckInput['cells'][number]): Problem[] {
  const f = new Findings();
  const m: Member = { file: cell.file, cell: cell.config, isRoot: false, base: 0 };
  const sys = system.config;
  if (m.cell.arch !== sys.arch) {
    f.add('CELLCFG_ARCH_MISMATCH', m, `${cellLabel(m)} is for ${m.cell.arch}, but the system configuration ${system.file} is for ${sys.arch}`, {
      offset: m.cell.revision === 14 ? 5 : 0,
      hint: m.cell.revision === 14 ? undefined : "revision 12/13 files carry no architecture byte: read the cell with --system SYSTEM.cell (or the same --arch) to take the system's",
    });
  }
  if (m.cell.revision !== sys.revision) {
    f.add('CELLCFG_REVISION_MISMATCH', m, `${cellLabel(m)} is revision ${m.cell.revision}, but the system configuration ${system.file} is revision ${sys.revision}`, {
      offset: 6,
      hint: 'build every configuration of a machine for the same Jailhouse',
    });
  }
  return f.list;
}

/** Every finding over the set; an empty list means the set is consistent. */
export function checkConfigs(input: CheckInput): Problem[] {
  const f = new Findings();
  const sys = input.system.config;
  const root: Member = { file: input.system.file, cell: sys.rootCell, isRoot: true, base: systemHeaderSize(sys.revision) };
  const cells: Member[] = input.cells.map((c) => ({ file: c.file, cell: c.config, isRoot: false, base: 0 }));
  for (const m of cells) f.list.push(...targetMismatches(input.system, { file: m.file, config: m.cell }));
  const members = [root, ...cells];
  checkNames(f, members);
  members.forEach((m) => checkOverlapsInCell(f, m));
  members.forEach((m) => checkHypervisorRules(f, m, sys.arch));
  members.forEach((m) => checkPageAlignment(f, m));
  members.forEach((m) => checkPciTypesOf(f, m));
  checkReserved(f, members, reservedRanges(sys, f, input.system.file));
  checkRamInSystem(f, root, cells, input.inmateMemory ?? []);
  checkCpus(f, root, cells, sys.arch);
  checkSharedMemory(f, cells);
  checkIvshmem(f, members);
  if (input.images) checkImages(f, cells, input.images);
  return f.list;
}

/**
 * The checks that need no system configuration, for cells whose system configuration cannot be
 * read (`crtosctl validate` without the machine's files): names, overlaps inside each cell, the
 * hypervisor's rules for `arch`, page alignment, PCI device types, and memory shared between the cells.
 */
export function checkCellConfigs(cells: CheckInput['cells'], arch: SystemConfig['arch']): Problem[] {
  const f = new Findings();
  const members: Member[] = cells.map((c) => ({ file: c.file, cell: c.config, isRoot: false, base: 0 }));
  checkNames(f, members);
  members.forEach((m) => checkOverlapsInCell(f, m));
  members.forEach((m) => checkHypervisorRules(f, m, arch));
  members.forEach((m) => checkPageAlignment(f, m));
  members.forEach((m) => checkPciTypesOf(f, m));
  checkSharedMemory(f, members);
  return f.list;
}
