/**
 * The description of a simulated machine: what hardware and software it has. Stored as JSON in
 * DIR/machine.json so every stand-in tool (a separate process) reads the same facts.
 */
import type { Arch, Revision } from '../jailhouse/index.js';

/** What loading a module does to the machine, beyond appearing in /proc/modules. */
export type ModuleEffect = 'jailhouse' | 'shadow' | 'ivshmem-net' | 'rtvmm';

export interface ModuleCatalogEntry {
  /** Module name as /proc/modules prints it (underscores, not dashes). */
  name: string;
  /** Machine path of the .ko file (for insmod); written by createSimMachine. */
  file?: string;
  /** Installed under /lib/modules/<release>, so `modprobe NAME` finds it. */
  installed?: boolean;
  /** Size column of /proc/modules. */
  size?: number;
  /** Parameters the module declares, with their defaults (shown in /sys/module/NAME/parameters). */
  parameters?: Record<string, string>;
  effect?: ModuleEffect;
}

/** A loopback endpoint a started cell listens on while it runs (the sRTOS daemon stand-in). */
export interface ReadinessEndpoint {
  cell: string;
  host: string;
  /**
   * 0 = createSimMachine picks a free endpoint and writes it back into the description: a port
   * below the ephemeral range, and for host 127.0.0.1 a random 127.0.0.0/8 address.
   */
  port: number;
}

export interface MachineDescription {
  arch: Arch;
  /** Number of CPUs, numbered 0..cpus-1. */
  cpus: number;
  /** CPUs Linux has offline at boot (they stay offline across cell create/destroy). */
  offlineCpus: number[];
  /** The configuration revision this machine's Jailhouse accepts (12 for the cRTOS fork). */
  configRevision: Revision;
  /** Memory reserved for the hypervisor at boot (memmap=); the system config must lie inside it. Hex strings. */
  hypervisorMemory: { physStart: string; size: string };
  /** `uname -r`, for /lib/modules/<release>. */
  kernelRelease: string;
  modules: ModuleCatalogEntry[];
  readiness: ReadinessEndpoint[];
  /**
   * Write an example's files into the machine: cRTOS (configs, image, drivers, loader) or RTMux
   * (the RT-Thread image; rtvmm.ko comes from the module catalog, see rtmux-example.ts).
   */
  example: 'crtos' | 'rtmux' | 'none';
  /**
   * Tools left to the host (no stand-in in DIR/bin), e.g. `ip` for a test that runs the real one
   * inside its own network namespace, or `chrt` where SCHED_FIFO is allowed.
   */
  realTools?: ('ip' | 'chrt')[];
}

export const DEFAULT_DESCRIPTION: MachineDescription = {
  arch: 'x86',
  cpus: 4,
  offlineCpus: [],
  configRevision: 12,
  hypervisorMemory: { physStart: '0x3a000000', size: '0x6000000' },
  kernelRelease: '5.4.0-crtos-sim',
  modules: [
    { name: 'jailhouse', installed: true, size: 45056, effect: 'jailhouse' },
    { name: 'shadow', file: '/opt/crtos/drivers/shadow.ko', size: 20480, effect: 'shadow' },
    { name: 'ivshmem_net', file: '/opt/crtos/drivers/ivshmem-net.ko', size: 28672, effect: 'ivshmem-net' },
    { name: 'uio_ivshmem', file: '/opt/crtos/drivers/uio_ivshmem.ko', size: 16384 },
  ],
  readiness: [{ cell: 'nuttx', host: '127.0.0.1', port: 0 }],
  example: 'crtos',
};

/** Module names as the kernel keeps them: dashes become underscores. */
export function canonicalModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** Problems with a description, as sentences; empty when it is usable. */
export function validateDescription(d: MachineDescription): string[] {
  const problems: string[] = [];
  if (!['x86', 'arm', 'arm64'].includes(d.arch)) problems.push(`arch must be x86, arm or arm64, not ${JSON.stringify(d.arch)}`);
  if (!Number.isInteger(d.cpus) || d.cpus < 1 || d.cpus > 64) problems.push(`cpus must be an integer 1..64, not ${JSON.stringify(d.cpus)}`);
  if (![12, 13, 14].includes(d.configRevision)) problems.push(`configRevision must be 12, 13 or 14, not ${JSON.stringify(d.configRevision)}`);
  for (const cpu of d.offlineCpus) if (!Number.isInteger(cpu) || cpu < 0 || cpu >= d.cpus) problems.push(`offlineCpus: no CPU ${cpu}`);
  for (const key of ['physStart', 'size'] as const) {
    try {
      BigInt(d.hypervisorMemory[key]);
    } catch {
      problems.push(`hypervisorMemory.${key} must be a number like 0x3a000000, not ${JSON.stringify(d.hypervisorMemory[key])}`);
    }
  }
  for (const r of d.readiness) {
    if (!/^127\.\d+\.\d+\.\d+$/.test(r.host) && r.host !== 'localhost') problems.push(`readiness endpoint of ${r.cell} must be a loopback address (127.0.0.0/8), not ${r.host}`);
    if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) problems.push(`readiness port of ${r.cell} must be 0..65535`);
  }
  if (!['crtos', 'rtmux', 'none'].includes(d.example)) problems.push(`example must be crtos, rtmux or none, not ${JSON.stringify(d.example)}`);
  for (const t of d.realTools ?? []) if (t !== 'ip' && t !== 'chrt') problems.push(`realTools may name ip and chrt, not ${JSON.stringify(t)}`);
  const names = new Set<string>();
  for (const m of d.modules) {
    if (names.has(m.name)) problems.push(`module ${m.name} is listed twice`);
    names.add(m.name);
    if (m.name !== canonicalModuleName(m.name)) problems.push(`module name ${m.name} must use underscores, as /proc/modules shows it`);
  }
  return problems;
}

export function mergeDescription(partial: Partial<MachineDescription> | undefined): MachineDescription {
  return { ...structuredClone(DEFAULT_DESCRIPTION), ...structuredClone(partial ?? {}) };
}
