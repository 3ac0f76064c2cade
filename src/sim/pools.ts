/**
 * The hypervisor's two page pools, sized the way upstream's paging_init does it, so that
 * `mem_pool_size`/`used` and `remap_pool_size`/`used` read figures of the real order:
 *
 * - mem_pool: the hypervisor memory region minus the core image (`core_size`: header, code and
 *   data up to `__page_pool`), in pages. In use after enable: the per-CPU data of every possible
 *   CPU, the system configuration, the pool's own bitmap, the remap pool's bitmap, and the page
 *   tables of the hypervisor's and the root cell's mappings. A cell takes its structure (with its
 *   configuration) and its page tables at create and gives them back at destroy.
 * - remap_pool: a fixed virtual range, BITS_PER_PAGE × NUM_REMAP_BITMAP_PAGES pages. In use: the
 *   temporary mapping pages of every CPU, and the devices the hypervisor maps for itself (the
 *   interrupt controller, the PCI configuration space when it is not virtual).
 *
 * The sizes of the hypervisor's own structures (core image, per-CPU data, the cell structure)
 * are those of upstream builds, per architecture; everything else follows from the configuration.
 */
import type { Arch, CellConfig, MemoryRegion, SystemConfig } from '../jailhouse/index.js';
import type { SimPools } from './state.js';

const PAGE = 4096n;
const BITS_PER_PAGE = 4096 * 8;
const NUM_REMAP_BITMAP_PAGES = 4;
const NUM_TEMPORARY_PAGES = 16;

interface ArchSizes {
  /** core_size: __page_pool - JAILHOUSE_BASE of an upstream build. */
  coreBytes: number;
  /** sizeof(struct per_cpu). */
  perCpuBytes: number;
  /** sizeof(struct cell), its communication page included. */
  cellBytes: number;
}

const SIZES: Record<Arch, ArchSizes> = {
  arm64: { coreBytes: 30 * 4096, perCpuBytes: 16 * 1024, cellBytes: 2 * 4096 },
  arm: { coreBytes: 26 * 4096, perCpuBytes: 8 * 1024, cellBytes: 2 * 4096 },
  x86: { coreBytes: 54 * 4096, perCpuBytes: 20 * 1024, cellBytes: 2 * 4096 },
};

/** Where each CPU sees its own per-CPU data (a 1 GiB-aligned hypervisor address). */
const LOCAL_CPU_BASE = 0x40000000n;

const pages = (bytes: bigint | number) => Number((BigInt(bytes) + PAGE - 1n) / PAGE);

/** Page sizes of the levels of a 4-level table (x86 EPT, ARM LPAE stage 2): 512 GiB, 1 GiB, 2 MiB, 4 KiB. */
const LEVEL_SHIFT = [39n, 30n, 21n, 12n];

/**
 * The page-table pages a set of mappings needs beyond the root table, with the largest page size
 * that alignment and size allow at each address, as paging_create maps: a table per distinct
 * entry of the level above that is not a block itself.
 */
export function tablePages(mappings: { virt: bigint; size: bigint; phys?: bigint }[]): number {
  const tables = LEVEL_SHIFT.slice(1).map(() => new Set<bigint>());
  for (const m of mappings) {
    let virt = m.virt & ~(PAGE - 1n);
    let phys = (m.phys ?? m.virt) & ~(PAGE - 1n);
    let size = ((m.size + PAGE - 1n) / PAGE) * PAGE;
    while (size > 0n) {
      // The largest level whose block fits here (1 GiB, 2 MiB, else 4 KiB).
      let level = 1;
      while (level < 3) {
        const block = 1n << (LEVEL_SHIFT[level] as bigint);
        if (((virt | phys) & (block - 1n)) === 0n && size >= block) break;
        level++;
      }
      // A table at every level from 1 down to this one, keyed by the address it covers.
      for (let l = 1; l <= level; l++) tables[l - 1]!.add(virt >> (LEVEL_SHIFT[l - 1] as bigint));
      // Advance to the end of this block, or for 4 KiB pages to the next 2 MiB boundary at once.
      const step = 1n << (LEVEL_SHIFT[level === 3 ? 2 : level] as bigint);
      const next = level === 3 ? (virt | (step - 1n)) + 1n : virt + step;
      const advance = next - virt < size ? next - virt : size;
      virt += advance;
      phys += advance;
      size -= advance;
    }
  }
  return tables.reduce((n, t) => n + t.size, 0);
}

const regionMappings = (regions: MemoryRegion[]) => regions.map((r) => ({ virt: r.virtStart, phys: r.physStart, size: r.size }));

/** The highest CPU of the root cell's set + 1: the driver's max_cpus. */
function maxCpus(config: SystemConfig): number {
  return Math.max(-1, ...config.rootCell.cpus) + 1;
}

/** The devices the hypervisor maps into its remap pool for itself, in pages. */
function deviceRemapPages(config: SystemConfig, cpus: number): number {
  const arm = config.platformInfo.arm;
  let n = 0;
  if (arm) {
    // GICv3: the distributor (64 KiB) and each CPU's redistributor frame (64 KiB); GICv2: the
    // distributor, CPU interface and hypervisor interface, a page each.
    n += arm.gicVersion === 3 ? 16 + 16 * cpus : 3;
  } else {
    // x86: a page per IOAPIC.
    n += config.rootCell.irqchips.length;
  }
  const pci = config.platformInfo;
  if (pci.pciMmconfigBase !== 0n && !pci.pciIsVirtual) n += (pci.pciMmconfigEndBus + 1) * 256;
  return n;
}

/** The pools right after a successful enable of this system configuration (`configBytes`: its size). */
export function poolsAtEnable(config: SystemConfig, configBytes: number): SimPools {
  const sizes = SIZES[config.arch];
  const cpus = maxCpus(config);
  const hv = config.hypervisorMemory;
  const memPages = pages(hv.size) - pages(sizes.coreBytes);
  const perCpu = (cpus * sizes.perCpuBytes) / 4096;
  const bitmap = Math.ceil(memPages / BITS_PER_PAGE);
  // The hypervisor's own tables: its image mapped where Linux put it, and the remap range's; then
  // each CPU's root table, which adds its per-CPU data at a fixed address (4 KiB pages).
  const hvTables = 1 + tablePages([{ virt: hv.physStart, size: hv.size }]) + 1;
  const cpuTables = cpus * (1 + tablePages([{ virt: LOCAL_CPU_BASE, size: BigInt(sizes.perCpuBytes) }]));
  // The root cell's stage-2 tables: its regions, and the hypervisor's memory backed page by page.
  const rootTables = 1 + tablePages([...regionMappings(config.rootCell.memoryRegions), { virt: hv.physStart, size: hv.size, phys: 0n }]);
  const memUsedAtEnable = perCpu + pages(configBytes) + bitmap + NUM_REMAP_BITMAP_PAGES + hvTables + cpuTables + rootTables;
  const remapUsed = cpus * NUM_TEMPORARY_PAGES + deviceRemapPages(config, cpus);
  return { memPages, memUsedAtEnable, remapPages: BITS_PER_PAGE * NUM_REMAP_BITMAP_PAGES, remapUsed };
}

/** What a cell takes from the memory pool at create: its structure with its configuration, and its stage-2 tables. */
export function cellPoolPages(config: CellConfig, configBytes: number, arch: Arch): number {
  return pages(SIZES[arch].cellBytes + configBytes) + 1 + tablePages(regionMappings(config.memoryRegions));
}
