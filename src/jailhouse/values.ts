/**
 * Readable spellings of configuration values, shared by the description schema (parse) and
 * describeConfig (format): sizes like 1G, CPU lists like 1-3,5, PCI addresses like 00:0e.0.
 * Every format* output parses back to the same value.
 */
import { parseCpuList as parseCpuListText, formatCpuList } from '../lib/cpu-list.js';

const SIZE_UNITS = [
  ['T', 40n],
  ['G', 30n],
  ['M', 20n],
  ['K', 10n],
] as const;

/** Parses 42, '42', '0x2a', '0b101', '1G', '512M', '4K' (binary units) into a bigint. */
export function parseInteger(v: number | string | bigint): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  const s = v.trim().replaceAll('_', '');
  if (/^0x[0-9a-f]+$/i.test(s) || /^0b[01]+$/i.test(s) || /^0o[0-7]+$/i.test(s) || /^[0-9]+$/.test(s)) return BigInt(s);
  const m = /^([0-9]+)\s*([KMGT])(i?B)?$/i.exec(s);
  if (m) {
    const shift = SIZE_UNITS.find(([u]) => u === m[2]!.toUpperCase())![1];
    return BigInt(m[1]!) << shift;
  }
  return undefined;
}

export const formatHex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** '1G', '508K' for whole binary units, else hex. */
export function formatSize(v: number | bigint): string {
  const b = BigInt(v);
  if (b === 0n) return '0';
  for (const [unit, shift] of SIZE_UNITS) {
    if (b % (1n << shift) === 0n) return `${b >> shift}${unit}`;
  }
  return formatHex(b);
}

/** Parses '1-3,5', [1, 2], 3 or '3' into an ascending, duplicate-free list. */
export function parseCpuList(v: number | string | readonly (number | string)[]): number[] | undefined {
  return parseCpuListText(Array.isArray(v) ? v.map(String).filter((p) => p.trim() !== '').join(',') : String(v));
}

export { formatCpuList };

/** '00:0e.0' (bus:device.function, hex) or a number -> bus << 8 | device << 3 | function. */
export function parseBdf(v: number | string): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 0xffff ? v : undefined;
  const m = /^([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i.exec(v.trim());
  if (m) {
    const dev = Number.parseInt(m[2]!, 16);
    if (dev > 0x1f) return undefined;
    return (Number.parseInt(m[1]!, 16) << 8) | (dev << 3) | Number(m[3]);
  }
  const n = parseInteger(v);
  return n !== undefined && n <= 0xffffn ? Number(n) : undefined;
}

export function formatBdf(bdf: number): string {
  const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
  return `${hex2(bdf >> 8)}:${hex2((bdf >> 3) & 0x1f)}.${bdf & 7}`;
}

export function parseHexBytes(v: string): Uint8Array | undefined {
  const s = v.replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(s)) return undefined;
  return Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

export function formatHexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
