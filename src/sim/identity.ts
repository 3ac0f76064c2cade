/**
 * Who a simulated machine is: hostname, machine id, kernel release and command line, board and
 * memory, shown in the files a real machine keeps them in (/etc/hostname, /etc/machine-id,
 * /proc/sys/kernel/*, /proc/cmdline, /proc/meminfo, /proc/iomem, /sys/firmware/memmap,
 * /proc/device-tree/*, /sys/class/dmi/id/*), so machine facts are read from the simulated machine exactly as from a
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
  /** Its `mem=` and (x86) `memmap=SIZE$START` decide what /proc/iomem gives Linux (see memoryLayout). */
  kernelCommandLine?: string;
  board?: BoardIdentity;
  /** The machine's RAM in bytes, all of it in the firmware's map; MemTotal is what Linux is given of it. */
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

/** A range of physical addresses, the end excluded. */
type Span = readonly [start: bigint, end: bigint];

/** The kernel's memparse: a number (0x… hex, else decimal) with an optional K, M, G, T, P or E. */
function memparse(text: string): bigint | undefined {
  const m = /^(0x[0-9a-f]+|\d+)([kmgtpe]?)$/i.exec(text);
  if (!m) return undefined;
  return BigInt(m[1]!) << BigInt(10 * ' kmgtpe'.indexOf((m[2] || ' ').toLowerCase()));
}

/**
 * How the machine's RAM is shared out at boot. The firmware reports all of it (physical); Linux
 * uses it up to `mem=` (arm64 caps the amount from where RAM starts, x86 the highest address: the
 * same here, RAM being one bank), less what is reserved inside: on x86 the `memmap=SIZE$START`
 * ranges of the command line (E820 RAM turned reserved), on arm the hypervisor's memory when it
 * lies inside what Linux would use (a no-map reserved-memory node, as device trees for Jailhouse
 * have). Memory above `mem=` is not in /proc/iomem at all, reserved or not.
 */
export function memoryLayout(d: MachineDescription): { physical: Span; linux: Span; reserved: Span[]; reservedMemoryNode?: Span } {
  const id = identityOf(d);
  const start = ramBase(d.arch);
  const physical: Span = [start, start + BigInt(id.memoryBytes)];
  const words = id.kernelCommandLine.split(/\s+/);
  let end = physical[1];
  for (const w of words.filter((x) => x.startsWith('mem='))) {
    const size = memparse(w.slice(4));
    if (size !== undefined) end = min(physical[1], d.arch === 'x86' ? size : start + size);
  }
  const linux: Span = [start, end];
  const clip = ([a, b]: Span): Span | undefined => (max(a, start) < min(b, end) ? [max(a, start), min(b, end)] : undefined);
  const hv: Span = [BigInt(d.hypervisorMemory.physStart), BigInt(d.hypervisorMemory.physStart) + BigInt(d.hypervisorMemory.size)];
  if (d.arch !== 'x86') {
    const inside = hv[0] >= start && hv[1] <= end && hv[1] > hv[0];
    return { physical, linux, reserved: inside ? [hv] : [], ...(inside ? { reservedMemoryNode: hv } : {}) };
  }
  const reserved: Span[] = [];
  for (const w of words.filter((x) => x.startsWith('memmap='))) {
    for (const item of w.slice(7).split(',')) {
      const [size, at] = item.split('$').map(memparse);
      const span = size !== undefined && at !== undefined ? clip([at, at + size]) : undefined;
      if (span) reserved.push(span);
    }
  }
  return { physical, linux, reserved: reserved.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/**
 * Device-tree files are bytes (strings NUL-terminated, numbers big-endian 32-bit cells): they are
 * rendered one character per byte and written back as such.
 */
export function renderedEncoding(rel: string): BufferEncoding {
  return rel.startsWith(`${DT}/`) ? 'latin1' : 'utf8';
}

const DT = 'proc/device-tree';

/** A device-tree string property: its UTF-8 bytes, NUL-terminated each. */
const dtStrings = (strings: readonly string[]) => Buffer.from(strings.map((x) => `${x}\0`).join(''), 'utf8').toString('latin1');

/** Numbers as `cells` big-endian 32-bit cells each. */
function dtCells(values: readonly bigint[], cells: number): string {
  const out = Buffer.alloc(4 * cells * values.length);
  values.forEach((v, i) => {
    for (let c = 0; c < cells; c++) out.writeUInt32BE(Number((v >> BigInt(32 * (cells - 1 - c))) & 0xffffffffn), 4 * (cells * i + c));
  });
  return out.toString('latin1');
}

/**
 * The identity files, path → content. /proc/iomem shows the RAM Linux uses as System RAM, what is
 * reserved inside it as reserved (neither in MemTotal); the firmware's own account of all RAM is
 * /sys/firmware/memmap on x86, the device tree's memory node on arm, each as a real machine shows
 * it (see memoryLayout).
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
  const layout = memoryLayout(d);
  const ranges: [bigint, bigint, string][] = [];
  // x86 names E820 reserved memory "Reserved" (e820_type_to_string); arm64 names no-map memory "reserved".
  const reservedName = d.arch === 'x86' ? 'Reserved' : 'reserved';
  let at = layout.linux[0];
  for (const [a, b] of layout.reserved) {
    ranges.push([at, a, 'System RAM'], [max(at, a), b, reservedName]);
    at = max(at, b);
  }
  ranges.push([at, layout.linux[1], 'System RAM']);
  out['proc/iomem'] = ranges
    .filter(([a, b]) => b > a)
    .map(([a, b, what]) => `${hex8(a)}-${hex8(b - 1n)} : ${what}\n`)
    .join('');
  const system = ranges.filter(([a, b, what]) => what === 'System RAM' && b > a).reduce((sum, [a, b]) => sum + (b - a), 0n);
  out['proc/meminfo'] = `MemTotal:       ${String(system / 1024n).padStart(8)} kB\n`;
  const [ramStart, ramEnd] = layout.physical;
  if (d.arch === 'x86') {
    // The E820 map as the firmware gave it: start and end (included) in hex.
    out['sys/firmware/memmap/0/start'] = `0x${ramStart.toString(16)}\n`;
    out['sys/firmware/memmap/0/end'] = `0x${(ramEnd - 1n).toString(16)}\n`;
    out['sys/firmware/memmap/0/type'] = 'System RAM\n';
  } else {
    // Two cells for addresses and sizes on arm64 (QEMU virt, i.MX8M); one on 32-bit boards when RAM ends below 4 GiB.
    const cells = d.arch === 'arm64' || ramEnd > 1n << 32n ? 2 : 1;
    out[`${DT}/#address-cells`] = dtCells([BigInt(cells)], 1);
    out[`${DT}/#size-cells`] = dtCells([BigInt(cells)], 1);
    out[`${DT}/memory@${ramStart.toString(16)}/device_type`] = dtStrings(['memory']);
    out[`${DT}/memory@${ramStart.toString(16)}/reg`] = dtCells([ramStart, ramEnd - ramStart], cells);
    if (layout.reservedMemoryNode) {
      const [a, b] = layout.reservedMemoryNode;
      out[`${DT}/reserved-memory/#address-cells`] = dtCells([BigInt(cells)], 1);
      out[`${DT}/reserved-memory/#size-cells`] = dtCells([BigInt(cells)], 1);
      out[`${DT}/reserved-memory/ranges`] = '';
      out[`${DT}/reserved-memory/jailhouse@${a.toString(16)}/reg`] = dtCells([a, b - a], cells);
      out[`${DT}/reserved-memory/jailhouse@${a.toString(16)}/no-map`] = '';
    }
  }
  const { model, compatible, vendor, product } = id.board;
  if (model !== undefined) out[`${DT}/model`] = dtStrings([model]);
  if (compatible !== undefined) out[`${DT}/compatible`] = dtStrings(compatible);
  if (vendor !== undefined) out['sys/class/dmi/id/sys_vendor'] = `${vendor}\n`;
  if (product !== undefined) out['sys/class/dmi/id/product_name'] = `${product}\n`;
  return out;
}

/** `uname -m` for each architecture (what /proc/sys/kernel/arch holds). */
export const UNAME_MACHINE: Record<Arch, string> = { x86: 'x86_64', arm64: 'aarch64', arm: 'armv7l' };
