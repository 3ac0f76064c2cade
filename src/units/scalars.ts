/**
 * Friendly scalar forms shared by every unit kind, each a zod schema that accepts what a person
 * writes and yields what the code needs: durations ("10s", "500ms", "1min 30s", or seconds as a
 * number) → milliseconds; sizes ("1G", "512M", "0x40000000", numbers) → bigint bytes; addresses
 * (hex strings or numbers) → bigint; CPU lists ("1-3,5", a number, or a list) → sorted numbers.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { parseCpuList } from '../lib/cpu-list.js';
import { excerpt } from './excerpt.js';

const DURATION_UNITS: Record<string, number> = {
  us: 0.001, usec: 0.001,
  ms: 1, msec: 1,
  s: 1000, sec: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** systemd.time(5) style: "10s", "500ms", "1min 30s"; a bare number means seconds. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/^(\d+(\.\d+)?\s*[a-z]+\s*)+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const m of trimmed.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)) {
    const factor = DURATION_UNITS[m[2]!];
    if (factor === undefined) return undefined;
    total += Number(m[1]) * factor;
  }
  return Math.round(total);
}

export const duration = z
  .union([z.number().nonnegative(), z.string()])
  .transform((value, ctx) => {
    if (typeof value === 'number') return Math.round(value * 1000);
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `'${excerpt(value)}' is not a duration; write e.g. "10s", "500ms" or "1min 30s"` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'A duration: "10s", "500ms", "1min 30s", or a number of seconds.' });

const SIZE_SUFFIX: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

/** "1G", "512M", "4K", "0x40000000", "1073741824"; binary multiples as Jailhouse configs use. */
export function parseSize(text: string): bigint | undefined {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t);
  const m = /^(\d+)\s*([KMGT]?)(i?B)?$/i.exec(t);
  if (!m) return undefined;
  return BigInt(m[1]!) * SIZE_SUFFIX[m[2]!.toUpperCase()]!;
}

export const size = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform((value, ctx) => {
    if (typeof value === 'number') return BigInt(value);
    const bytes = parseSize(value);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: `'${excerpt(value)}' is not a size; write e.g. "1G", "512M", "4K" or "0x40000000"` });
      return z.NEVER;
    }
    return bytes;
  })
  .meta({ description: 'A size in bytes: "1G", "512M", "4K", "0x40000000" or a number.' });

export const address = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform((value, ctx) => {
    if (typeof value === 'number') return BigInt(value);
    const t = value.trim();
    if (/^(0x[0-9a-f]+|\d+)$/i.test(t)) return BigInt(t);
    ctx.addIssue({ code: 'custom', message: `'${excerpt(value)}' is not an address; write a hex string such as "0x1000" or a number` });
    return z.NEVER;
  })
  .meta({ description: 'An address: a hex string ("0x1000") or a number.' });

export { parseCpuList, formatCpuList } from '../lib/cpu-list.js';

export const cpuList = z
  .union([z.number().int().nonnegative(), z.string(), z.array(z.number().int().nonnegative())])
  .transform((value, ctx) => {
    if (typeof value === 'number') return [value];
    if (Array.isArray(value)) return [...new Set(value)].sort((a, b) => a - b);
    const cpus = parseCpuList(value);
    if (cpus === undefined) {
      ctx.addIssue({ code: 'custom', message: `'${excerpt(value)}' is not a CPU list; write e.g. "1-3,5"` });
      return z.NEVER;
    }
    return cpus;
  })
  .meta({ description: 'CPUs: "1-3,5", a single number, or a list of numbers.' });

/** An absolute machine path (resolved under --root by the host). */
export const machinePath = z
  .string()
  .regex(/^\//, { message: 'must be an absolute path (starting with /)' })
  .meta({ description: 'An absolute path on the machine.' });

/** `host:port` for a TCP readiness probe; IPv6 in brackets. */
export const tcpEndpoint = z
  .string()
  .transform((value, ctx) => {
    const m = /^(?:\[([0-9a-f:]+)\]|([^:\s]+)):(\d{1,5})$/i.exec(value.trim());
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `'${excerpt(value)}' is not host:port; write e.g. "172.16.0.2:42"` });
      return z.NEVER;
    }
    return { host: (m[1] ?? m[2])!, port };
  })
  .meta({ description: 'A TCP endpoint "host:port".' });

/**
 * What an interface address with prefix length is wrong in, or undefined when it is right: IPv4
 * with four numbers 0-255 and a prefix 0-32, IPv6 (checked by node:net) with a prefix 0-128.
 */
export function cidrProblem(text: string): string | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return `'${excerpt(text)}' has no prefix length; write e.g. "172.16.0.1/24" or "fd00::1/64"`;
  const host = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const v6 = host.includes(':');
  const family = v6 ? 'IPv6' : 'IPv4';
  const reasons: string[] = [];
  if (v6 ? !isIPv6(host) || host.includes('%') : !isIPv4(host)) {
    reasons.push(v6 ? `'${excerpt(host)}' is not an IPv6 address` : `'${excerpt(host)}' is not an IPv4 address (four numbers 0 to 255, as in 172.16.0.1)`);
  }
  const max = v6 ? 128 : 32;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > max) reasons.push(`the prefix length of an ${family} address is 0 to ${max}, not '${excerpt(prefixText)}'`);
  return reasons.length === 0 ? undefined : `'${excerpt(text)}' is not an address with prefix length: ${reasons.join('; ')}`;
}

/** `172.16.0.1/24`, `fd00::1/64` */
export const cidr = z
  .string()
  .superRefine((value, ctx) => {
    const problem = cidrProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    // For editors (the generated JSON Schema): the shape; the numbers are checked above.
    pattern: '^(\\d{1,3}\\.){3}\\d{1,3}\\/\\d{1,2}$|^[0-9a-f:]+\\/\\d{1,3}$',
    description: 'An interface address with prefix length, e.g. "172.16.0.1/24".',
  });
