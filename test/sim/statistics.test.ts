/** The exit counters each architecture has, and how they count. */
import { describe, expect, it } from 'vitest';
import { cpuStatistics, statisticsNames, sumStatistics } from '../../src/sim/statistics.js';

describe('exit counters', () => {
  it("have upstream driver's names per architecture", () => {
    expect(statisticsNames('arm64')).toEqual(['vmexits_hypercall', 'vmexits_maintenance', 'vmexits_management', 'vmexits_mmio', 'vmexits_psci', 'vmexits_smccc', 'vmexits_total', 'vmexits_virt_irq', 'vmexits_virt_sgi']);
    expect(statisticsNames('arm')).toContain('vmexits_cp15');
    expect(statisticsNames('x86')).toHaveLength(12);
    expect(statisticsNames('x86')).toContain('vmexits_msr_x2apic_icr');
  });

  it('are 0 before a start, grow while running, and the total is the sum of the others', () => {
    expect(Object.values(cpuStatistics('arm64', false, false, 0)).every((n) => n === 0)).toBe(true);
    const atStart = cpuStatistics('arm64', false, true, 0);
    const later = cpuStatistics('arm64', false, true, 5000);
    for (const c of [atStart, later]) expect(c.vmexits_total).toBe(Object.entries(c).reduce((n, [k, v]) => n + (k === 'vmexits_total' ? 0 : v), 0));
    expect(later.vmexits_total).toBeGreaterThan(atStart.vmexits_total!);
    expect(Object.keys(atStart)).toEqual(statisticsNames('arm64'));
  });

  it("a cell's figures are the sum over its CPUs", () => {
    expect(sumStatistics([{ vmexits_mmio: 2, vmexits_total: 2 }, { vmexits_mmio: 3, vmexits_total: 3 }])).toEqual({ vmexits_mmio: 5, vmexits_total: 5 });
  });
});
