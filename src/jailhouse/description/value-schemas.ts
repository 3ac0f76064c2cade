/**
 * Schemas of single values in a description: integers of a C width, flag lists and enumerations
 * by name, CPU lists, PCI addresses, hex bytes. Each parses a readable spelling into the value
 * types.ts stores and reports what it expected, in the user's terms, when it cannot.
 */
import { z } from 'zod';
import { SHMEM_PROTOCOLS, bitsToNames, enumToName, nameToEnum, namesToBits, type BitNames, type EnumNames } from '../flags.js';
import { formatHex, parseBdf, parseCpuList, parseHexBytes, parseInteger } from '../values.js';

/**
 * Each schema is built once, when first asked for, and shared: zod schemas are immutable, and
 * building them is most of what the description costs the first time it is used.
 */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

const intInput = once(() => z.union([z.number(), z.string(), z.bigint()]));

function buildUint(bytes: 1 | 2 | 4) {
  const max = 2 ** (8 * bytes) - 1;
  return intInput().transform((v, ctx) => {
    const n = parseInteger(v);
    if (n === undefined || n < 0n || n > BigInt(max)) {
      ctx.addIssue({ code: 'custom', message: `expected an integer 0..${formatHex(max)} (decimal, 0x hex, or a size like 4K), got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return Number(n);
  });
}

const uints = { 1: once(() => buildUint(1)), 2: once(() => buildUint(2)), 4: once(() => buildUint(4)) };

/** An unsigned integer of 1, 2 or 4 bytes, as a number. */
export const uint = (bytes: 1 | 2 | 4) => uints[bytes]();

/** A 64-bit unsigned integer, as a bigint. */
export const u64 = once(() =>
  intInput().transform((v, ctx) => {
    const n = parseInteger(v);
    if (n === undefined || n < 0n || n > 0xffffffffffffffffn) {
      ctx.addIssue({ code: 'custom', message: `expected a 64-bit unsigned integer (decimal, 0x hex, or a size like 1G), got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  }),
);

/** Flag names from `table` (or hex values for unknown bits), in the table's order. */
export function flagList(table: BitNames) {
  return z.array(z.string()).transform((names, ctx) => {
    const r = namesToBits(names, table);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: `unknown flag '${r.bad}'; expected one of ${table.map(([n]) => n).join(', ')} or a hex value` });
      return z.NEVER;
    }
    // Canonical order (table order), so a description and the decoded file compare equal.
    return bitsToNames(r.value, table);
  });
}

/** Accepts a name from `table`, a hex string or a number; yields the canonical name. */
export function enumName(table: EnumNames, max: number) {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : nameToEnum(v, table);
    if (n === undefined || !Number.isInteger(n) || n < 0 || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected one of ${table.map(([name]) => name).join(', ')} or a number, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return enumToName(n, table);
  });
}

/** `'1-3,5'`, a number or a list, as sorted CPU numbers. */
export const cpuList = once(() =>
  z.union([z.number(), z.string(), z.array(z.union([z.number(), z.string()]))]).transform((v, ctx) => {
    const cpus = parseCpuList(v);
    if (cpus === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a CPU list like '1-3,5' or [1, 2], got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return cpus;
  }),
);

/** A PCI address `bus:device.function` (or its number). */
export const bdf = once(() =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = parseBdf(v);
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a PCI address bus:device.function like '00:0e.0', got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  }),
);

/** Bytes written as a hex string. */
export const hexBytes = once(() =>
  z.string().transform((v, ctx) => {
    const b = parseHexBytes(v);
    if (b === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected hex bytes like "00ff10"' });
      return z.NEVER;
    }
    return b;
  }),
);

/** An ivshmem protocol: VETH, UNDEFINED or a 16-bit number. */
export const shmemProtocol = once(() =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : (nameToEnum(v, SHMEM_PROTOCOLS) ?? (parseInteger(v) === undefined ? undefined : Number(parseInteger(v))));
    if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffff) {
      ctx.addIssue({ code: 'custom', message: `expected VETH, UNDEFINED or a 16-bit number, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  }),
);

/** An MMU-500 (SMMUv2) stream id `{ id, maskOut }`, stored as id | maskOut << 16. */
export const mmu500StreamId = once(() =>
  z.strictObject({ id: uint(2), maskOut: uint(2).default(0) }).transform((s) => ((s.maskOut << 16) | s.id) >>> 0)
);
