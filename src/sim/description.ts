/**
 * The description of a simulated machine: what hardware and software it has. Stored as JSON in
 * DIR/machine.json so every stand-in tool (a separate process) reads the same facts.
 */
import type { Arch, Revision } from '../jailhouse/index.js';
import { identityProblems, type MachineIdentity } from './identity.js';
import { remoteprocProblems, type RemoteprocDescription } from './remoteproc/description.js';

/** What loading a module does to the machine, beyond appearing in /proc/modules. */
export type ModuleEffect = 'jailhouse' | 'shadow' | 'ivshmem-net' | 'rtvmm' | 'rpmsg-tty';

export interface ModuleCatalogEntry {
  /** Module name as /proc/modules prints it (underscores, not dashes). */
  name: string;
  /** Machine path of the .ko file (for insmod); written by createSimMachine. */
  file?: string;
  /** Installed under /lib/modules/<release>, so `modprobe NAME` finds it. */
  installed?: boolean;
  /** Size column of /proc/modules. */
  size?: number;
  /**
   * Parameters the module declares (its module_param lines): a default as text (shown in
   * /sys/module/NAME/parameters, the value kept as given), or a full declaration. A parameter
   * given to insmod/modprobe that is not declared here is ignored, as the kernel does.
   */
  parameters?: Record<string, string | ModuleParameterDeclaration>;
  effect?: ModuleEffect;
}

/**
 * What the module's init checks a parameter against, beyond its type:
 * - `shadow-rw-section`: when given, the value must be the physical address of the R/W section of
 *   one of the root cell's shadow (protocol 0x0002) ivshmem devices, else the load fails (EINVAL).
 *   The cRTOS README's `insmod shadow.ko shmaddr=0x108000000` repeated that address by hand.
 */
export type ModuleParameterCheck = 'shadow-rw-section';

export interface ModuleParameterDeclaration {
  /** The value before a load sets it, as sysfs shows it. */
  default: string;
  /**
   * How the kernel parses and shows it: `text` (default) keeps the value as given, a bare name
   * reads `Y`; `ulong` parses a C number (0x… hex, 0… octal, decimal; kstrtoul), shows it in
   * decimal, and refuses anything else (EINVAL).
   */
  type?: 'text' | 'ulong';
  /** module_param's permission bits: 0 declares the parameter without a sysfs file. Default 0444. */
  perm?: number;
  check?: ModuleParameterCheck;
}

export const MODULE_PARAMETER_TYPES = ['text', 'ulong'] as const;
export const MODULE_PARAMETER_CHECKS: readonly ModuleParameterCheck[] = ['shadow-rw-section'];

/** A catalog parameter as a full declaration (a bare string is a text parameter's default). */
export function parameterDeclaration(p: string | ModuleParameterDeclaration): ModuleParameterDeclaration {
  return typeof p === 'string' ? { default: p } : p;
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
   * Write an example's files into the machine: cRTOS (configs, image, drivers, loader), RTMux
   * (the RT-Thread image; rtvmm.ko comes from the module catalog, see rtmux-example.ts) or
   * remoteproc (the Zephyr firmware and the rpmsg proxy, see remoteproc/example.ts), or a fleet
   * machine's board files (fleet-arm64, linux-only: see fleet-examples.ts).
   */
  example: 'crtos' | 'rtmux' | 'remoteproc' | 'fleet-arm64' | 'linux-only' | 'none';
  /** Modules loaded before anyone looks (udev loads a platform driver by its DT compatible); each must be installed. */
  bootModules?: string[];
  /**
   * Remote processors (Linux remoteproc): their sysfs, debugfs, rpmsg devices and ttys are served
   * by the machine's kernel server through FUSE (src/sim/README.md, "The remoteproc machine").
   */
  remoteproc?: RemoteprocDescription;
  /**
   * Tools left to the host (no stand-in in DIR/bin), e.g. `ip` for a test that runs the real one
   * inside its own network namespace, or `chrt` where SCHED_FIFO is allowed.
   */
  realTools?: ('ip' | 'chrt')[];
  /**
   * PCI domains of the machine's own host bridges, as Linux numbers them at boot; default [0] on
   * x86, none on arm/arm64. A root-cell ivshmem device appears in Linux only on a bus that exists
   * (the driver looks its bus up by the device's `domain`); on arm/arm64 with `pci_is_virtual` the
   * driver adds the virtual host (domain `pci_domain`, or the lowest free one for 0xffff).
   */
  pciDomains?: number[];
  /**
   * Hostname, machine id, kernel command line, board and memory, shown where a real machine keeps
   * them (src/sim/identity.ts); each field defaults to one that fits the example and architecture.
   */
  identity?: MachineIdentity;
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
    // The README-era shadow.ko: `module_param(shmaddr, ulong, 0)`, so no sysfs file.
    {
      name: 'shadow',
      file: '/opt/crtos/drivers/shadow.ko',
      size: 20480,
      effect: 'shadow',
      parameters: { shmaddr: { default: '0', type: 'ulong', perm: 0, check: 'shadow-rw-section' } },
    },
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
  if (!['crtos', 'rtmux', 'remoteproc', 'fleet-arm64', 'linux-only', 'none'].includes(d.example)) problems.push(`example must be crtos, rtmux, remoteproc, fleet-arm64, linux-only or none, not ${JSON.stringify(d.example)}`);
  for (const name of d.bootModules ?? []) if (!d.modules.some((m) => m.name === name && m.installed)) problems.push(`bootModules: ${name} is not an installed module of the catalog`);
  if (d.remoteproc !== undefined) problems.push(...remoteprocProblems(d.remoteproc, d.modules));
  for (const t of d.realTools ?? []) if (t !== 'ip' && t !== 'chrt') problems.push(`realTools may name ip and chrt, not ${JSON.stringify(t)}`);
  problems.push(...identityProblems(d));
  for (const domain of d.pciDomains ?? []) if (!Number.isInteger(domain) || domain < 0 || domain > 0xffff) problems.push(`pciDomains: ${JSON.stringify(domain)} is not a PCI domain (0..0xffff)`);
  const names = new Set<string>();
  for (const m of d.modules) {
    if (names.has(m.name)) problems.push(`module ${m.name} is listed twice`);
    names.add(m.name);
    if (m.name !== canonicalModuleName(m.name)) problems.push(`module name ${m.name} must use underscores, as /proc/modules shows it`);
    for (const [name, p] of Object.entries(m.parameters ?? {})) problems.push(...parameterProblems(`module ${m.name} parameter ${name}`, p));
  }
  return problems;
}

function parameterProblems(what: string, p: string | ModuleParameterDeclaration): string[] {
  if (typeof p === 'string') return [];
  const problems: string[] = [];
  if (typeof p.default !== 'string') problems.push(`${what}: default must be a string`);
  if (p.type !== undefined && !MODULE_PARAMETER_TYPES.includes(p.type)) problems.push(`${what}: type must be ${MODULE_PARAMETER_TYPES.join(' or ')}, not ${JSON.stringify(p.type)}`);
  if (p.perm !== undefined && (!Number.isInteger(p.perm) || p.perm < 0 || p.perm > 0o777)) problems.push(`${what}: perm must be permission bits 0..0o777`);
  if (p.check !== undefined && !MODULE_PARAMETER_CHECKS.includes(p.check)) problems.push(`${what}: check must be ${MODULE_PARAMETER_CHECKS.join(' or ')}, not ${JSON.stringify(p.check)}`);
  else if (p.check !== undefined && p.type !== 'ulong') problems.push(`${what}: check ${p.check} compares an address, so the type must be ulong`);
  return problems;
}

/** The PCI domains the machine's own host bridges have (see MachineDescription.pciDomains). */
export function machinePciDomains(d: MachineDescription): number[] {
  return d.pciDomains ?? (d.arch === 'x86' ? [0] : []);
}

export function mergeDescription(partial: Partial<MachineDescription> | undefined): MachineDescription {
  const merged = { ...structuredClone(DEFAULT_DESCRIPTION), ...structuredClone(partial ?? {}) };
  // One kernel release: the identity's, when only it is given, also names /lib/modules/<release>.
  const release = partial?.identity?.kernelRelease;
  if (release !== undefined && partial?.kernelRelease === undefined) merged.kernelRelease = release;
  return merged;
}
