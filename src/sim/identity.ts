/**
 * Who a simulated machine is: hostname, machine id, kernel release and command line, board and
 * memory, shown in the files a real machine keeps them in (/etc/hostname, /etc/machine-id,
 * /proc/sys/kernel/*, /proc/cmdline, /proc/meminfo, /proc/iomem, /proc/device-tree/*,
 * /sys/class/dmi/id/*), so machine facts are read from the simulated machine exactly as from a
 * real one. Every field has a default that fits the machine's example and architecture.
 */
import { createHash } from 'node:crypto';
import type { Arch } from '../jailhouse/index.js';
import type { MachineDescription } from './description.js';

export interface BoardIdentity {
  /** Device tree `model` (arm, arm64). */
  model?: string;
  /** Device tree `compatible`, most specific first. */
  compatible?: string[];
  /** DMI sys_vendor (x86). */
  vendor?: string;
  /** DMI product_name (x86). */
  product?: string;
}

/** MachineDescription.identity: every field optional, defaults from identityOf. */
export interface MachineIdentity {
  hostname?: string;
  /** 32 lower-case hex digits, as /etc/machine-id holds it. */
  machineId?: string;
  /** `uname -r`; the same as MachineDescription.kernelRelease (mergeDescription copies it there). */
  kernelRelease?: string;
  kernelCommandLine?: string;
  board?: BoardIdentity;
  /** The machine's RAM in bytes; /proc/meminfo's MemTotal is this less what the command line reserves. */
  memoryBytes?: number;
}

export type ResolvedIdentity = Required<Omit<MachineIdentity, 'board'>> & { board: BoardIdentity };

const GIB = 1024 ** 3;

/** Where RAM starts in the physical address space: x86 at 0, the arm boards here (QEMU virt, i.MX8M) at 1 GiB. */
export function ramBase(arch: Arch): bigint {
  return arch === 'x86' ? 0n : 0x40000000n;
}

/** The identity with every default filled in. */
export function identityOf(d: MachineDescription): ResolvedIdentity {
  const given = d.identity ?? {};
  const hostname = given.hostname ?? DEFAULT_HOSTNAME[d.example];
  return {
    hostname,
    machineId: given.machineId ?? createHash('sha256').update(`crtos-sim machine ${hostname}`).digest('hex').slice(0, 32),
    kernelRelease: given.kernelRelease ?? d.kernelRelease,
    kernelCommandLine: given.kernelCommandLine ?? defaultCommandLine(d),
    board: given.board ?? defaultBoard(d),
    memoryBytes: given.memoryBytes ?? DEFAULT_MEMORY[d.example],
  };
}

const DEFAULT_HOSTNAME: Record<MachineDescription['example'], string> = {
  crtos: 'crtos-sim',
  rtmux: 'rtmux-sim',
  remoteproc: 'imx8mm-sim',
  'fleet-arm64': 'rt-board-sim',
  'linux-only': 'gateway-sim',
  none: 'crtos-sim',
};

const DEFAULT_MEMORY: Record<MachineDescription['example'], number> = {
  // The cRTOS example's NuttX cell has its memory above 4 GiB (0x100000000-0x1401fefff).
  crtos: 8 * GIB,
  // The Realview PB-A8 has 512 MiB; the i.MX8M Mini EVK 2 GiB.
  rtmux: 512 * 1024 ** 2,
  remoteproc: 2 * GIB,
  'fleet-arm64': 2 * GIB,
  'linux-only': 512 * 1024 ** 2,
  none: 8 * GIB,
};

/**
 * The boot command line: on x86 the hypervisor's memory is kept from Linux with memmap= (as the
 * cRTOS guide does); on arm the device tree reserves it, so nothing shows on the command line.
 */
function defaultCommandLine(d: MachineDescription): string {
  if (d.arch !== 'x86') return 'console=ttyAMA0 root=/dev/vda2 rw rootwait';
  const { size, physStart } = d.hypervisorMemory;
  return `BOOT_IMAGE=/boot/vmlinuz-${d.kernelRelease} root=/dev/sda1 ro intel_iommu=off memmap=${size}$${physStart}`;
}

function defaultBoard(d: MachineDescription): BoardIdentity {
  if (d.example === 'remoteproc') return { model: 'NXP i.MX8MM EVK board', compatible: ['fsl,imx8mm-evk', 'fsl,imx8mm'] };
  if (d.example === 'rtmux') return { model: 'ARM RealView Platform Baseboard for Cortex-A8', compatible: ['arm,realview-pba8'] };
  // The one machine cRTOS was tested on (reference/deployments.md).
  if (d.arch === 'x86') return { vendor: 'Supermicro', product: 'C7X99-OCE-F' };
  return { model: 'linux,dummy-virt', compatible: ['linux,dummy-virt'] };
}

/** Problems with an identity block, as sentences. */
export function identityProblems(d: MachineDescription): string[] {
  const id = d.identity;
  if (id === undefined) return [];
  const problems: string[] = [];
  const text = (key: string, v: unknown) => {
    if (v !== undefined && (typeof v !== 'string' || v === '' || v.includes('\n'))) problems.push(`identity.${key} must be a one-line string, not ${JSON.stringify(v)}`);
  };
  text('hostname', id.hostname);
  text('kernelRelease', id.kernelRelease);
  text('kernelCommandLine', id.kernelCommandLine);
  if (id.machineId !== undefined && !/^[0-9a-f]{32}$/.test(String(id.machineId))) problems.push(`identity.machineId must be 32 lower-case hex digits, not ${JSON.stringify(id.machineId)}`);
  if (id.kernelRelease !== undefined && id.kernelRelease !== d.kernelRelease) {
    problems.push(`identity.kernelRelease ${id.kernelRelease} differs from kernelRelease ${d.kernelRelease} (the /lib/modules directory): give one of them`);
  }
  if (id.memoryBytes !== undefined && (!Number.isSafeInteger(id.memoryBytes) || id.memoryBytes < 1024 * 1024 || id.memoryBytes % 4096 !== 0)) {
    problems.push(`identity.memoryBytes must be a whole number of 4 KiB pages, at least 1 MiB, not ${JSON.stringify(id.memoryBytes)}`);
  }
  const b = id.board;
  if (b !== undefined) {
    text('board.model', b.model);
    text('board.vendor', b.vendor);
    text('board.product', b.product);
    if (b.compatible !== undefined && (!Array.isArray(b.compatible) || b.compatible.some((c) => typeof c !== 'string' || c === '' || c.includes('\0')))) {
      problems.push(`identity.board.compatible must be a list of non-empty strings, not ${JSON.stringify(b.compatible)}`);
    }
  }
  return problems;
}

/** Addresses as /proc/iomem prints them: lower-case hex, at least 8 digits. */
const hex8 = (n: bigint) => n.toString(16).padStart(8, '0');

/**
 * The identity files, path → content. RAM is one range from the architecture's base; the
 * hypervisor's memory, where it lies inside, is `reserved` (memmap= on x86, a no-map
 * reserved-memory node on arm), so not System RAM and not in MemTotal.
 */
export function renderIdentity(d: MachineDescription): Record<string, string> {
  const id = identityOf(d);
  const out: Record<string, string> = {
    'etc/hostname': `${id.hostname}\n`,
    'etc/machine-id': `${id.machineId}\n`,
    'proc/sys/kernel/hostname': `${id.hostname}\n`,
    'proc/sys/kernel/osrelease': `${id.kernelRelease}\n`,
    'proc/sys/kernel/arch': `${UNAME_MACHINE[d.arch]}\n`,
    'proc/cmdline': `${id.kernelCommandLine}\n`,
  };
  const start = ramBase(d.arch);
  const end = start + BigInt(id.memoryBytes);
  const hvStart = BigInt(d.hypervisorMemory.physStart);
  const hvEnd = hvStart + BigInt(d.hypervisorMemory.size);
  const ranges: [bigint, bigint, string][] =
    hvStart >= start && hvEnd <= end && hvEnd > hvStart
      ? [
          [start, hvStart, 'System RAM'],
          [hvStart, hvEnd, 'reserved'],
          [hvEnd, end, 'System RAM'],
        ]
      : [[start, end, 'System RAM']];
  out['proc/iomem'] = ranges
    .filter(([a, b]) => b > a)
    .map(([a, b, what]) => `${hex8(a)}-${hex8(b - 1n)} : ${what}\n`)
    .join('');
  const reserved = ranges.filter(([, , what]) => what === 'reserved').reduce((sum, [a, b]) => sum + (b - a), 0n);
  out['proc/meminfo'] = `MemTotal:       ${String((BigInt(id.memoryBytes) - reserved) / 1024n).padStart(8)} kB\n`;
  const { model, compatible, vendor, product } = id.board;
  // The kernel shows device-tree properties raw: strings NUL-terminated, a list NUL-separated.
  if (model !== undefined) out['proc/device-tree/model'] = `${model}\0`;
  if (compatible !== undefined) out['proc/device-tree/compatible'] = compatible.map((c) => `${c}\0`).join('');
  if (vendor !== undefined) out['sys/class/dmi/id/sys_vendor'] = `${vendor}\n`;
  if (product !== undefined) out['sys/class/dmi/id/product_name'] = `${product}\n`;
  return out;
}

/** `uname -m` for each architecture (what /proc/sys/kernel/arch holds). */
export const UNAME_MACHINE: Record<Arch, string> = { x86: 'x86_64', arm64: 'aarch64', arm: 'armv7l' };
