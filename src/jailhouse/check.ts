/**
 * Consistency checks over one configuration set (a system configuration, the non-root cells that
 * will run on it, and optionally the images loaded into them). Pure: configurations in, problems
 * out. Covers what upstream `jailhouse config check` finds, plus what neither upstream's checker
 * nor the driver or hypervisor verify (CPU conflicts, memory shared between non-root cells,
 * ivshmem link consistency, images that do not fit).
 */
import { problem, type Problem } from '../errors/problem.js';
import type { ProblemCode } from '../errors/codes.js';
import { systemHeaderSize } from './layout.js';
import { cellConfigSize } from './encode.js';
import { formatBdf, formatCpuList, formatHex } from './values.js';
import type { CellConfig, MemoryRegion, PciDevice, SystemConfig } from './types.js';

export interface CheckInput {
  system: { file: string; config: SystemConfig };
  cells: { file: string; config: CellConfig }[];
  /** Images by cell name, with their size in bytes and guest (virtual) load address. */
  images?: { cell: string; file: string; size: number; address: bigint }[];
}

/** A cell of the set with where it came from. */
interface Member {
  file: string;
  cell: CellConfig;
  isRoot: boolean;
  /** Offset of the cell header in its file (the root cell follows the system header). */
  base: number;
}

/** Half-open byte range; size 0 never overlaps anything (as in pyjailhouse). */
interface Range {
  start: bigint;
  size: bigint;
}

const overlaps = (a: Range, b: Range): boolean => a.size > 0n && b.size > 0n && a.start < b.start + b.size && b.start < a.start + a.size;
const phys = (m: MemoryRegion): Range => ({ start: m.physStart, size: m.size });
const virt = (m: MemoryRegion): Range => ({ start: m.virtStart, size: m.size });
const has = (m: MemoryRegion, flag: string): boolean => m.flags.includes(flag);
/** The comm region's phys_start is ignored by the hypervisor, so it takes part in no phys check. */
const isComm = (m: MemoryRegion): boolean => has(m, 'COMM_REGION');

const describeRange = (r: Range): string => `${formatHex(r.start)}..${formatHex(r.start + r.size)}`;
const cellLabel = (m: Member): string => (m.isRoot ? `root cell '${m.cell.name}'` : `cell '${m.cell.name}'`);

function regionOffset(m: Member, index: number): number {
  return m.base + 132 + m.cell.cpuSetSize + 32 * index;
}

function pciOffset(m: Member, index: number): number {
  const c = m.cell;
  return m.base + 132 + c.cpuSetSize + 32 * c.memoryRegions.length + 12 * c.cacheRegions.length + 32 * c.irqchips.length + 4 * c.pioRegions.length + 56 * index;
}

class Findings {
  readonly list: Problem[] = [];
  add(code: ProblemCode, m: Member | { file: string }, message: string, extra: { offset?: number; hint?: string; severity?: 'warning' | undefined } = {}): void {
    this.list.push(problem(code, message, { file: m.file, ...extra }));
  }
  region(code: ProblemCode, m: Member, index: number, message: string, hint?: string): void {
    this.add(code, m, `${cellLabel(m)}, region ${index}: ${message}`, hint === undefined ? { offset: regionOffset(m, index) } : { offset: regionOffset(m, index), hint });
  }
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
// ivshmem links

interface Endpoint {
  member: Member;
  index: number;
  dev: PciDevice;
}

const MAX_PEERS = 12;

function endpointLabel(e: Endpoint): string {
  return `${cellLabel(e.member)}, ivshmem device ${e.index} (${formatBdf(e.dev.bdf)})`;
}

/** Checks one endpoint on its own; returns false when its regions cannot be looked at. */
function checkEndpoint(f: Findings, e: Endpoint): boolean {
  const { dev, member } = e;
  const at = { offset: pciOffset(member, e.index) };
  let usable = true;
  if (dev.shmemPeers < 1 || dev.shmemPeers > MAX_PEERS) {
    f.add('CELLCFG_IVSHMEM_PEERS', member, `${endpointLabel(e)}: shmemPeers is ${dev.shmemPeers}; expected 1..${MAX_PEERS}`, at);
    usable = false;
  }
  const idInRange = dev.shmemDevId < Math.min(MAX_PEERS, Math.max(dev.shmemPeers, 1));
  if (!idInRange) {
    f.add('CELLCFG_IVSHMEM_DEV_ID', member, `${endpointLabel(e)}: shmemDevId ${dev.shmemDevId} is not below shmemPeers ${dev.shmemPeers}`, at);
  }
  const needed = dev.shmemRegionsStart + 2 + dev.shmemPeers;
  if (needed > member.cell.memoryRegions.length) {
    f.add('CELLCFG_IVSHMEM_REGIONS', member, `${endpointLabel(e)}: regions ${dev.shmemRegionsStart}..${needed - 1} (state, r/w, ${dev.shmemPeers} outputs) run past the cell's ${member.cell.memoryRegions.length} memory regions`, {
      ...at,
      hint: 'the hypervisor requires shmemRegionsStart + 2 + shmemPeers <= number of memory regions',
    });
    usable = false;
  }
  if (!usable) return false;
  // Who owns which output section is only meaningful for an id inside the link.
  if (!idInRange) return true;
  const regions = member.cell.memoryRegions;
  for (let k = 0; k < dev.shmemPeers; k++) {
    const index = dev.shmemRegionsStart + 2 + k;
    const out = regions[index]!;
    if (out.size === 0n) continue;
    const writable = has(out, 'WRITE');
    if (k === dev.shmemDevId && !writable) {
      f.region('CELLCFG_IVSHMEM_OUTPUT_WRITE', member, index, `output section of peer ${k} is not writable by its owner (${endpointLabel(e)} is peer ${k})`, 'add WRITE to the owner\'s output region');
    } else if (k !== dev.shmemDevId && writable) {
      f.region('CELLCFG_IVSHMEM_OUTPUT_WRITE', member, index, `output section of peer ${k} is writable by peer ${dev.shmemDevId} (${endpointLabel(e)})`, 'only the owning peer may write its output section; drop WRITE');
    }
  }
  return true;
}

function checkLink(f: Findings, link: readonly Endpoint[]): void {
  const first = link[0]!;
  for (const e of link.slice(1)) {
    if (e.dev.shmemPeers !== first.dev.shmemPeers) {
      f.add('CELLCFG_IVSHMEM_PEERS', e.member, `${endpointLabel(e)} has shmemPeers ${e.dev.shmemPeers}, but ${endpointLabel(first)} (${first.member.file}) has ${first.dev.shmemPeers}`, { offset: pciOffset(e.member, e.index) });
    }
  }
  link.forEach((e, i) => {
    const twin = link.slice(0, i).find((o) => o.dev.shmemDevId === e.dev.shmemDevId);
    if (twin) {
      f.add('CELLCFG_IVSHMEM_DEV_ID', e.member, `${endpointLabel(e)} uses shmemDevId ${e.dev.shmemDevId}, like ${endpointLabel(twin)} (${twin.member.file})`, {
        offset: pciOffset(e.member, e.index),
        hint: 'each peer of a link needs its own id; the second cell create fails with EBUSY',
      });
    }
  });
  // Same physical memory for every section, compared with the first endpoint.
  for (const e of link.slice(1)) {
    const count = 2 + Math.min(e.dev.shmemPeers, first.dev.shmemPeers);
    for (let k = 0; k < count; k++) {
      const mine = e.member.cell.memoryRegions[e.dev.shmemRegionsStart + k]!;
      const theirs = first.member.cell.memoryRegions[first.dev.shmemRegionsStart + k]!;
      if (mine.physStart !== theirs.physStart || mine.size !== theirs.size) {
        const section = k === 0 ? 'state table' : k === 1 ? 'r/w section' : `output section of peer ${k - 2}`;
        f.region(
          'CELLCFG_IVSHMEM_ADDRESS',
          e.member,
          e.dev.shmemRegionsStart + k,
          `${section} of link ${formatBdf(e.dev.bdf)} is ${describeRange(phys(mine))}, but ${cellLabel(first.member)} (${first.member.file}) region ${first.dev.shmemRegionsStart + k} has ${describeRange(phys(theirs))}`,
          'every peer must map the same physical memory for each section',
        );
      }
    }
  }
}

function checkIvshmem(f: Findings, members: readonly Member[]): void {
  const endpoints: Endpoint[] = [];
  for (const member of members) {
    member.cell.pciDevices.forEach((dev, index) => {
      if (dev.type === 'ivshmem') endpoints.push({ member, index, dev });
    });
  }
  const usable = endpoints.filter((e) => checkEndpoint(f, e));
  const links = new Map<number, Endpoint[]>();
  for (const e of usable) links.set(e.dev.bdf, [...(links.get(e.dev.bdf) ?? []), e]);
  for (const link of links.values()) {
    checkLink(f, link);
    const lone = link[0]!;
    if (link.length === 1 && !lone.member.isRoot) {
      f.add('CELLCFG_IVSHMEM_LONELY', lone.member, `${endpointLabel(lone)} has no peer in this configuration set`, { offset: pciOffset(lone.member, lone.index), severity: 'warning', hint: 'the peer uses the same bdf in its own configuration' });
    }
  }
  // Endpoints that share a state table but not a bdf are not one link to the hypervisor.
  usable.forEach((a, i) => {
    for (const b of usable.slice(i + 1)) {
      if (a.dev.bdf === b.dev.bdf || a.member === b.member) continue;
      const sa = a.member.cell.memoryRegions[a.dev.shmemRegionsStart]!;
      const sb = b.member.cell.memoryRegions[b.dev.shmemRegionsStart]!;
      if (overlaps(phys(sa), phys(sb))) {
        f.add('CELLCFG_IVSHMEM_BDF', b.member, `${endpointLabel(b)} shares its state table ${describeRange(phys(sb))} with ${endpointLabel(a)} (${a.member.file}) but uses another bdf`, {
          offset: pciOffset(b.member, b.index),
          hint: `the hypervisor links peers by bdf; use ${formatBdf(a.dev.bdf)} in both`,
        });
      }
    }
  });
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

/** Every finding over the set; an empty list means the set is consistent. */
export function checkConfigs(input: CheckInput): Problem[] {
  const f = new Findings();
  const sys = input.system.config;
  const root: Member = { file: input.system.file, cell: sys.rootCell, isRoot: true, base: systemHeaderSize(sys.revision) };
  const cells: Member[] = input.cells.map((c) => ({ file: c.file, cell: c.config, isRoot: false, base: 0 }));
  for (const m of cells) {
    if (m.cell.arch !== sys.arch) {
      f.add('CELLCFG_ARCH_MISMATCH', m, `${cellLabel(m)} is for ${m.cell.arch}, but the system configuration ${input.system.file} is for ${sys.arch}`, {
        offset: m.cell.revision === 14 ? 5 : 0,
        hint: m.cell.revision === 14 ? undefined : 'revision 12/13 files carry no architecture; pass --arch',
      });
    }
  }
  for (const m of cells) {
    if (m.cell.revision !== sys.revision) {
      f.add('CELLCFG_REVISION_MISMATCH', m, `${cellLabel(m)} is revision ${m.cell.revision}, but the system configuration ${input.system.file} is revision ${sys.revision}`, {
        offset: 6,
        hint: 'build every configuration of a machine for the same Jailhouse',
      });
    }
  }
  const members = [root, ...cells];
  checkNames(f, members);
  members.forEach((m) => checkOverlapsInCell(f, m));
  members.forEach((m) => checkHypervisorRules(f, m, sys.arch));
  checkReserved(f, members, reservedRanges(sys, f, input.system.file));
  checkCpus(f, root, cells, sys.arch);
  checkSharedMemory(f, cells);
  checkIvshmem(f, members);
  if (input.images) checkImages(f, cells, input.images);
  return f.list;
}

/**
 * The checks that need no system configuration, for cells whose system configuration cannot be
 * read (`crtosctl validate` without the machine's files): names, overlaps inside each cell, the
 * hypervisor's rules for `arch`, and memory shared between the cells.
 */
export function checkCellConfigs(cells: CheckInput['cells'], arch: SystemConfig['arch']): Problem[] {
  const f = new Findings();
  const members: Member[] = cells.map((c) => ({ file: c.file, cell: c.config, isRoot: false, base: 0 }));
  checkNames(f, members);
  members.forEach((m) => checkOverlapsInCell(f, m));
  members.forEach((m) => checkHypervisorRules(f, m, arch));
  checkSharedMemory(f, members);
  return f.list;
}
