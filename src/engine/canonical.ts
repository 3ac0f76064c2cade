/**
 * Canonical JSON and digests: the description of a unit is compared by hash, both in memory and
 * across daemon restarts (the state file), so it must not depend on key order or on how bigint
 * values happen to be represented.
 */
import { createHash } from 'node:crypto';

/** JSON with sorted keys; bigint as `"0x…n"` strings so they survive a JSON round trip distinctly. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(value: unknown): unknown {
  if (typeof value === 'bigint') return `0x${value.toString(16)}n`;
  if (Array.isArray(value)) return value.map(normalize);
  if (value instanceof Uint8Array) return sha256(value);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalize(v);
    }
    return out;
  }
  return value;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Short digest of a canonical value, for change detection. */
export function digest(value: unknown): string {
  return sha256(canonicalJson(value)).slice(0, 32);
}
