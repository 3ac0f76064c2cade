/**
 * The hypervisor's per-CPU exit counters as the driver shows them (`cells/N/statistics/` and
 * `cells/N/statistics/cpuM/`): the counters each architecture has, per upstream's driver
 * (arm64: vmexits_hypercall, _maintenance, _management, _mmio, _psci, _smccc, _total, _virt_irq,
 * _virt_sgi; 32-bit ARM also _cp15; x86: _hypercall, _management, _mmio, _pio, _xapic, _cr,
 * _cpuid, _xsetbv, _exception, _msr_other, _msr_x2apic_icr, _total). Nothing executes in the
 * simulator, so the counts are made up but plausible: a few exits when a CPU starts, then a steady
 * rate while it runs (a timer tick's interrupt, some device accesses), more for Linux's CPUs than
 * for an RTOS's; `vmexits_total` is the sum of the others.
 */
import type { Arch } from '../jailhouse/index.js';

/** How often a running cell's counters move (and its runner rewrites them). */
export const STATISTICS_REFRESH_MS = 1000;

/** Per counter: exits when the CPU starts, and per second while it runs (an inmate, then Linux). */
type Profile = Record<string, { atStart: number; inmate: number; linux: number }>;

const ARM_COMMON: Profile = {
  vmexits_hypercall: { atStart: 1, inmate: 0, linux: 2 },
  vmexits_maintenance: { atStart: 0, inmate: 1, linux: 5 },
  vmexits_management: { atStart: 1, inmate: 0, linux: 0 },
  vmexits_mmio: { atStart: 2, inmate: 10, linux: 40 },
  vmexits_psci: { atStart: 1, inmate: 0, linux: 0 },
  vmexits_smccc: { atStart: 1, inmate: 0, linux: 0 },
  vmexits_virt_irq: { atStart: 0, inmate: 1000, linux: 250 },
  vmexits_virt_sgi: { atStart: 0, inmate: 0, linux: 100 },
};

const PROFILES: Record<Arch, Profile> = {
  arm64: ARM_COMMON,
  arm: { ...ARM_COMMON, vmexits_cp15: { atStart: 4, inmate: 0, linux: 1 } },
  x86: {
    vmexits_hypercall: { atStart: 1, inmate: 0, linux: 2 },
    vmexits_management: { atStart: 1, inmate: 0, linux: 0 },
    vmexits_mmio: { atStart: 2, inmate: 10, linux: 40 },
    vmexits_pio: { atStart: 4, inmate: 5, linux: 20 },
    vmexits_xapic: { atStart: 2, inmate: 1000, linux: 500 },
    vmexits_cr: { atStart: 6, inmate: 0, linux: 1 },
    vmexits_cpuid: { atStart: 20, inmate: 0, linux: 1 },
    vmexits_xsetbv: { atStart: 1, inmate: 0, linux: 0 },
    vmexits_exception: { atStart: 0, inmate: 0, linux: 0 },
    vmexits_msr_other: { atStart: 8, inmate: 0, linux: 5 },
    vmexits_msr_x2apic_icr: { atStart: 0, inmate: 0, linux: 100 },
  },
};

/** The counter names of an architecture, `vmexits_total` included, in alphabetical order. */
export function statisticsNames(arch: Arch): string[] {
  return [...Object.keys(PROFILES[arch]), 'vmexits_total'].sort();
}

/**
 * One CPU's counters: nothing before its first start, the start's exits after it, and the
 * running rate over `runningMs`. The hypervisor clears them when the CPU changes cells.
 */
export function cpuStatistics(arch: Arch, linux: boolean, started: boolean, runningMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [name, p] of Object.entries(PROFILES[arch])) {
    const n = started ? p.atStart + Math.floor(((linux ? p.linux : p.inmate) * runningMs) / 1000) : 0;
    out[name] = n;
    total += n;
  }
  out.vmexits_total = total;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** A cell's counters: each the sum over its CPUs. */
export function sumStatistics(cpus: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counters of cpus) for (const [name, n] of Object.entries(counters)) out[name] = (out[name] ?? 0) + n;
  return out;
}
