/**
 * The hypervisor's console as `jailhouse console` reads it: what the hypervisor printed, in the
 * shapes of upstream's printk calls (setup, cell management, shutdown), kept in a 2 KB ring so
 * that after a disable it holds the tail of the shutdown messages.
 */
import type { Arch, SystemConfig } from '../jailhouse/index.js';
import type { SimPools, SimState } from './state.js';

/** sizeof(jailhouse_virt_console.content). */
export const CONSOLE_RING_BYTES = 2048;

/** JAILHOUSE_VERSION of the build the machine runs. */
const VERSION = 'v0.12';

/** __text_start as the hypervisor sees it: JAILHOUSE_BASE plus the header. */
const CODE_LOCATION: Record<Arch, string> = {
  arm64: '0x0000ffffc0200800',
  arm: '0xf0000800',
  x86: '0xfffffffff0000050',
};

/** The units upstream links in, in their initialization order. */
const UNITS: Record<Arch, string[]> = {
  arm64: ['irqchip', 'ARM SMMU v3', 'ARM SMMU', 'PVU IOMMU', 'PCI'],
  arm: ['irqchip', 'PCI'],
  x86: ['VT-d', 'IOAPIC', 'Cache Allocation Technology', 'PCI'],
};

/** Appends to the ring; the oldest bytes go once it holds more than 2 KB. */
export function printk(state: SimState, text: string): void {
  const jh = state.jailhouse;
  const all = jh.console + text;
  jh.console = all.length > CONSOLE_RING_BYTES ? all.slice(all.length - CONSOLE_RING_BYTES) : all;
}

const usage = (when: string, mem: number, memPages: number, remap: number, remapPages: number) =>
  `Page pool usage ${when}: mem ${mem}/${memPages}, remap ${remap}/${remapPages}\n`;

/** paging_dump_stats: the pools now (the enable's figures plus what the cells hold). */
export function poolUsage(state: SimState, when: string): string {
  const p = state.jailhouse.pools;
  if (!p) return '';
  return usage(when, memUsed(state), p.memPages, p.remapUsed, p.remapPages);
}

export function memUsed(state: SimState): number {
  const p = state.jailhouse.pools;
  return p ? p.memUsedAtEnable + state.jailhouse.cells.reduce((n, c) => n + (c.poolPages ?? 0), 0) : 0;
}

/**
 * What an enable prints: `early` up to the processors' initialization (all a failing enable
 * leaves), `late` the units, the page pools after setup and the activation; the root cell's
 * virtual PCI devices (ivshmem.ts) come between the two.
 */
export function bootLog(config: SystemConfig, rootCpus: number[], pools: SimPools): { early: string; late: string } {
  const cpus = Math.max(-1, ...config.rootCell.cpus) + 1;
  const early =
    `\nInitializing Jailhouse hypervisor ${VERSION} on CPU ${rootCpus[0] ?? 0}\n` +
    `Code location: ${CODE_LOCATION[config.arch]}\n` +
    // Early: before the root cell's tables, the devices and the per-CPU mappings.
    usage('after early setup', pools.memUsedAtEnable - earlyTail(pools, cpus), pools.memPages, cpus * 16, pools.remapPages) +
    'Initializing processors:\n' +
    rootCpus.map((c) => ` CPU ${c}... OK\n`).join('') +
    UNITS[config.arch].map((u) => `Initializing unit: ${u}\n`).join('');
  const late = `${usage('after late setup', pools.memUsedAtEnable, pools.memPages, pools.remapUsed, pools.remapPages)}Activating hypervisor\n`;
  return { early, late };
}

/** Pages the processors' and the root cell's setup add after the early figure (an estimate: a root table per CPU and the root cell's). */
function earlyTail(pools: SimPools, cpus: number): number {
  return Math.min(pools.memUsedAtEnable, cpus + 1);
}
