/**
 * Collecting a machine's facts through the Host, every path under its root: the running machine
 * (root /), a simulated one, or a machine's file tree. Each fact has the file Linux keeps it in;
 * what a tree does not have is left out or empty rather than guessed (see README "Machine facts").
 */
import type { Host } from '../host/host.js';
import { formatCpuList, parseCpuList } from '../lib/cpu-list.js';
import { decodeConfig } from '../jailhouse/decode.js';
import type { Arch } from '../jailhouse/types.js';
import { FACTS_VERSION, architectureOfMachine, boardId, type MachineFacts, type MachineIdentity } from './types.js';
import { firmwareRam } from './firmware-ram.js';

/** What collecting reads; a Host has it all. */
export type FactsReader = Pick<Host, 'readAttributes' | 'readFile' | 'readDir'>;

const ATTRIBUTES = [
  'proc/sys/kernel/hostname',
  'etc/hostname',
  'etc/machine-id',
  'proc/sys/kernel/arch',
  'sys/devices/system/cpu/present',
  'sys/devices/system/cpu/possible',
  'sys/devices/system/cpu/online',
  'proc/meminfo',
  'proc/iomem',
  'proc/sys/kernel/osrelease',
  'proc/cmdline',
  'proc/device-tree/model',
  'proc/device-tree/compatible',
  'sys/class/dmi/id/sys_vendor',
  'sys/class/dmi/id/product_name',
] as const;
type Attribute = (typeof ATTRIBUTES)[number];

/**
 * Where the architecture comes from when /proc/sys/kernel/arch (Linux 6.1 and later: uname's
 * machine) is missing: the ELF header of the machine's init or shell, which a file tree of any
 * machine has, booted or not. Programs that are regular files come first: /sbin/init is often an
 * absolute symlink (to /lib/systemd/systemd, or /bin/busybox), which under --root leads out of
 * the tree to the host's own program, of the host's architecture.
 */
const ELF_PROGRAMS = ['/usr/lib/systemd/systemd', '/lib/systemd/systemd', '/bin/busybox', '/sbin/init', '/bin/sh', '/usr/bin/sh'];

/** The machine's identity (types.ts MachineIdentity): what the daemon reads on every load. */
export async function collectIdentity(host: FactsReader): Promise<MachineIdentity> {
  const read = await host.readAttributes(ATTRIBUTES.map((p) => `/${p}`));
  const text = (p: Attribute): string | undefined => {
    const r = read[ATTRIBUTES.indexOf(p)]!;
    return 'text' in r ? r.text : undefined;
  };
  const line = (p: Attribute): string | undefined => text(p)?.split('\n')[0]?.trim() || undefined;
  const hostname = line('proc/sys/kernel/hostname') ?? line('etc/hostname') ?? 'localhost';
  const machineId = line('etc/machine-id') ?? '';
  const machine = line('proc/sys/kernel/arch');
  const architecture = machine !== undefined ? architectureOfMachine(machine) : ((await elfArchitecture(host)) ?? 'unknown');
  const present = parseCpuList(line('sys/devices/system/cpu/present') ?? line('sys/devices/system/cpu/possible') ?? '') ?? [];
  const online = parseCpuList(line('sys/devices/system/cpu/online') ?? '') ?? [];
  const board = boardOf(text('proc/device-tree/model'), text('proc/device-tree/compatible'), line('sys/class/dmi/id/sys_vendor'), line('sys/class/dmi/id/product_name'));
  const systemRam = systemRamOf(text('proc/iomem'));
  const physicalRam = await firmwareRam(host);
  return {
    hostname,
    machineId: /^[0-9a-f]{32}$/.test(machineId) ? machineId : '',
    architecture,
    cpus: { count: Math.max(present.length, online.length, 1), online: formatCpuList(online) },
    memory: { total: memTotal(text('proc/meminfo')), ...(systemRam ? { systemRam } : {}), ...(physicalRam ? { physicalRam } : {}) },
    kernel: { release: line('proc/sys/kernel/osrelease') ?? '', commandLine: line('proc/cmdline') ?? '' },
    board,
  };
}

/**
 * Everything `crtosctl facts` prints: the identity, what the hypervisor and processors are doing,
 * and whether each of `paths` exists (what the fleet's `pathExists` conditions ask of it).
 */
export async function collectFacts(host: FactsReader & Pick<Host, 'exists'>, paths: readonly string[] = []): Promise<MachineFacts> {
  const identity = await collectIdentity(host);
  const [modules, enabled] = await host.readAttributes(['/proc/modules', '/sys/devices/jailhouse/enabled']);
  const text = (r: typeof modules) => (r && 'text' in r ? r.text : '');
  return {
    crtosFactsVersion: FACTS_VERSION,
    ...identity,
    jailhouse: {
      present: /^jailhouse /m.test(text(modules)) || (await jailhouseInstalled(host, identity.kernel.release)),
      enabled: text(enabled).trim() === '1',
      ...(await systemConfiguration(host, JAILHOUSE_ARCH[identity.architecture])),
    },
    remoteproc: await remoteprocs(host),
    ...(paths.length > 0 ? { paths: Object.fromEntries(await Promise.all([...paths].sort().map(async (p) => [p, await host.exists(p)] as const))) } : {}),
  };
}

function boardOf(model: string | undefined, compatible: string | undefined, vendor: string | undefined, product: string | undefined): MachineFacts['board'] {
  // Device-tree properties are raw: strings NUL-terminated, a list NUL-separated.
  const strings = (raw: string | undefined) => (raw ?? '').split('\0').filter((s) => s !== '');
  const b: Omit<MachineFacts['board'], 'id'> = {};
  const m = strings(model)[0];
  if (m !== undefined) b.model = m;
  const c = strings(compatible);
  if (c.length > 0) b.compatible = c;
  if (vendor !== undefined) b.vendor = vendor;
  if (product !== undefined) b.product = product;
  return { ...b, id: boardId(b) };
}

function memTotal(meminfo: string | undefined): number {
  const kb = /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo ?? '')?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

/** Top-level "System RAM" lines of /proc/iomem; undefined when the addresses read as zeros (not root). */
function systemRamOf(iomem: string | undefined): string[] | undefined {
  const ranges: string[] = [];
  for (const l of (iomem ?? '').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) : System RAM$/i.exec(l);
    if (m) ranges.push(`0x${m[1]!.toLowerCase()}-0x${m[2]!.toLowerCase()}`);
  }
  if (ranges.length === 0 || ranges.every((r) => /^0x0+-0x0+$/.test(r))) return undefined;
  return ranges;
}

/** e_machine of an ELF header (with its class and byte order) → systemd's architecture name. */
function elfToArchitecture(h: Buffer): string | undefined {
  if (h.length < 20 || h.toString('latin1', 0, 4) !== '\x7fELF') return undefined;
  const is64 = h[4] === 2;
  const big = h[5] === 2;
  const machine = big ? h.readUInt16BE(18) : h.readUInt16LE(18);
  switch (machine) {
    case 62:
      return 'x86-64';
    case 3:
      return 'x86';
    case 183:
      return big ? 'arm64-be' : 'arm64';
    case 40:
      return big ? 'arm-be' : 'arm';
    case 243:
      return is64 ? 'riscv64' : 'riscv32';
    case 21:
      return big ? 'ppc64' : 'ppc64-le';
    case 22:
      return is64 ? 's390x' : 's390';
    case 258:
      return 'loongarch64';
    default:
      return undefined;
  }
}

async function elfArchitecture(host: FactsReader): Promise<string | undefined> {
  for (const program of ELF_PROGRAMS) {
    const bytes = await host.readFile(program).catch(() => undefined);
    const arch = bytes ? elfToArchitecture(bytes) : undefined;
    if (arch) return arch;
  }
  return undefined;
}

/** jailhouse.ko installed for the running kernel (modules.dep names it), though not loaded. */
async function jailhouseInstalled(host: FactsReader, release: string): Promise<boolean> {
  if (release === '') return false;
  const dep = await host.readFile(`/lib/modules/${release}/modules.dep`).catch(() => undefined);
  return dep !== undefined && /(^|\/)jailhouse\.ko(\.[a-z]+)?:/m.test(dep.toString('utf8'));
}

/** Jailhouse's name of the machine's architecture: what a revision 12/13 file, which does not say, is read as. */
const JAILHOUSE_ARCH: Record<string, Arch | undefined> = { 'x86-64': 'x86', arm64: 'arm64', arm: 'arm' };

/** Revision and architecture of the system configuration(s) in /etc/jailhouse, when they agree. */
async function systemConfiguration(host: FactsReader, machineArch: Arch | undefined): Promise<{ revision?: number; arch?: string }> {
  const names = await host.readDir('/etc/jailhouse').catch(() => [] as string[]);
  const found = new Set<string>();
  for (const name of names.filter((n) => n.endsWith('.cell'))) {
    const bytes = await host.readFile(`/etc/jailhouse/${name}`).catch(() => undefined);
    const decoded = bytes ? decodeConfig(bytes, machineArch ? { arch: machineArch } : {}) : undefined;
    if (decoded?.ok && decoded.config.kind === 'system') found.add(JSON.stringify([decoded.config.revision, decoded.config.arch]));
  }
  if (found.size !== 1) return {};
  const [revision, arch] = JSON.parse([...found][0]!) as [number, string];
  return { revision, arch };
}

async function remoteprocs(host: FactsReader): Promise<MachineFacts['remoteproc']> {
  const dirs = await host.readDir('/sys/class/remoteproc').catch(() => [] as string[]);
  const paths = dirs.flatMap((d) => [`/sys/class/remoteproc/${d}/name`, `/sys/class/remoteproc/${d}/state`]);
  const read = paths.length ? await host.readAttributes(paths) : [];
  const value = (i: number) => {
    const r = read[i]!;
    return 'text' in r ? r.text.trim() : '';
  };
  return dirs.map((_, i) => ({ name: value(2 * i), state: value(2 * i + 1) })).filter((p) => p.name !== '');
}
