/** The page pools as paging_init sizes them, and the page tables a mapping needs. */
import { describe, expect, it } from 'vitest';
import { cellPoolPages, poolsAtEnable, tablePages } from '../../src/sim/pools.js';
import { crtosSystemConfig, nuttxCellConfig } from '../../src/sim/index.js';
import { encodeConfig } from '../../src/jailhouse/index.js';

const KIB = 1024n;
const MIB = 1024n * KIB;
const GIB = 1024n * MIB;

describe('tablePages', () => {
  it('counts a table per level below the root down to the page size the mapping allows', () => {
    // A 4 KiB page: a 1 GiB-level, a 2 MiB-level and a 4 KiB-level table.
    expect(tablePages([{ virt: 0n, size: 4n * KIB }])).toBe(3);
    // A 2 MiB block, aligned: no 4 KiB-level table.
    expect(tablePages([{ virt: 2n * MIB, size: 2n * MIB }])).toBe(2);
    // A 1 GiB block, aligned: only the top table.
    expect(tablePages([{ virt: GIB, size: GIB }])).toBe(1);
    // Two pages in one 2 MiB range share their tables; one in the next 2 MiB range adds one.
    expect(tablePages([{ virt: 0n, size: 4n * KIB }, { virt: 8n * KIB, size: 4n * KIB }])).toBe(3);
    expect(tablePages([{ virt: 0n, size: 4n * KIB }, { virt: 2n * MIB, size: 4n * KIB }])).toBe(4);
    // Physical and virtual addresses must both be aligned for a block.
    expect(tablePages([{ virt: 0n, phys: 4n * KIB, size: 2n * MIB }])).toBe(3);
  });
});

describe('poolsAtEnable and cellPoolPages', () => {
  it("size the pools from the hypervisor's memory and the CPUs, and a cell takes pages for its structure and tables", () => {
    const example = { revision: 12 as const, arch: 'x86' as const, cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };
    const sys = crtosSystemConfig(example);
    const pools = poolsAtEnable(sys, encodeConfig(sys).length);
    // 96 MiB is 24576 pages, less the x86 core image of 54 pages.
    expect(pools.memPages).toBe(24576 - 54);
    expect(pools.remapPages).toBe(4096 * 8 * 4);
    // 16 temporary pages per CPU (4) and a page per IOAPIC.
    expect(pools.remapUsed).toBe(4 * 16 + sys.rootCell.irqchips.length);
    expect(pools.memUsedAtEnable).toBeGreaterThan(0);
    expect(pools.memUsedAtEnable).toBeLessThan(pools.memPages);
    const cell = nuttxCellConfig(example);
    expect(cellPoolPages(cell, encodeConfig(cell).length, 'x86')).toBeGreaterThanOrEqual(3);
  });
});
