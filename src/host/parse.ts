/**
 * Pure parsers for what the kernel and the tools print: sysfs CPU lists and masks, /proc/modules,
 * /proc/PID/stat, `ip -j addr show`. No I/O here, so every format is tested on literal text.
 */
import type { InterfaceInfo } from './host.js';
import { parseCpuList as parseCpuListText, formatCpuList } from '../lib/cpu-list.js';

/** `1-3,5\n` → [1, 2, 3, 5]; the empty list (just `\n`) → []. Throws on malformed text. */
export function parseCpuList(text: string): number[] {
  const cpus = parseCpuListText(text);
  if (cpus === undefined) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
  return cpus;
}

export { formatCpuList };

/**
 * The kernel's `%*pb` hex mask for a bitmap of `nbits` bits: 32-bit groups separated by commas,
 * the most significant first; the first group has only as many hex digits as its bits need.
 */
export function formatCpuMask(cpus: readonly number[], nbits: number): string {
  const groups = Math.max(1, Math.ceil(nbits / 32));
  const words: number[] = new Array<number>(groups).fill(0);
  for (const cpu of cpus) {
    if (cpu < 0 || cpu >= groups * 32) continue;
    const index = Math.floor(cpu / 32);
    words[index] = ((words[index] as number) | (1 << (cpu % 32))) >>> 0;
  }
  const out: string[] = [];
  for (let g = groups - 1; g >= 0; g--) {
    const bitsInGroup = g === groups - 1 ? nbits - g * 32 : 32;
    const digits = Math.max(1, Math.ceil(bitsInGroup / 4));
    out.push((words[g] as number).toString(16).padStart(digits, '0'));
  }
  return out.join(',');
}

export interface ProcModule {
  name: string;
  size: number;
  refcount: number;
  usedBy: string[];
  state: string;
}

/** /proc/modules: `name size refcount deps state address`, deps `a,b,` or `-`. */
export function parseProcModules(text: string): ProcModule[] {
  const out: ProcModule[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 5) throw new Error(`malformed /proc/modules line: ${JSON.stringify(line)}`);
    const [name, size, refcount, deps, state] = f as [string, string, string, string, string];
    out.push({
      name,
      size: Number(size),
      refcount: refcount === '-' ? 0 : Number(refcount),
      usedBy: deps === '-' ? [] : deps.split(',').filter((d) => d !== ''),
      state,
    });
  }
  return out;
}

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  /** Fields 4, 5 and 6: parent PID, process group and session. */
  ppid: number;
  pgid: number;
  sid: number;
  /** Field 22: start time in clock ticks since boot. */
  startTime: number;
}

/** /proc/PID/stat. `comm` may hold spaces and parentheses, so fields are counted after the last `)`. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('malformed /proc/PID/stat');
  const pid = Number(text.slice(0, open).trim());
  const comm = text.slice(open + 1, close);
  // After ")": field 3 (state) is index 0, so field N is index N - 3.
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const state = rest[0];
  const startTime = Number(rest[22 - 3]);
  const [ppid, pgid, sid] = [rest[4 - 3], rest[5 - 3], rest[6 - 3]].map(Number) as [number, number, number];
  if (state === undefined || ![startTime, pid, ppid, pgid, sid].every(Number.isFinite)) throw new Error('malformed /proc/PID/stat');
  return { pid, comm, state, ppid, pgid, sid, startTime };
}

/** `ip -j addr show`: interface names, UP flag and CIDR addresses (IPv4 and IPv6). */
export function parseIpAddrJson(text: string): InterfaceInfo[] {
  const data: unknown = JSON.parse(text === '' ? '[]' : text);
  if (!Array.isArray(data)) throw new Error('ip -j addr show did not print a JSON array');
  const out: InterfaceInfo[] = [];
  for (const entry of data as Record<string, unknown>[]) {
    if (typeof entry !== 'object' || entry === null || typeof entry.ifname !== 'string') continue;
    const flags = Array.isArray(entry.flags) ? (entry.flags as unknown[]) : [];
    const addrInfo = Array.isArray(entry.addr_info) ? (entry.addr_info as Record<string, unknown>[]) : [];
    out.push({
      name: entry.ifname,
      up: flags.includes('UP'),
      addresses: addrInfo
        .filter((a) => typeof a.local === 'string' && typeof a.prefixlen === 'number')
        .map((a) => `${a.local as string}/${a.prefixlen as number}`),
    });
  }
  return out;
}
