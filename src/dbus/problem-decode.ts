/**
 * Problems from the bus back into Problem objects. No dbus-next here: crtosctl decodes replies
 * with its own small wire code, which unwraps variants already; dbus-next's Variant objects
 * ({signature, value}) are unwrapped too.
 */
import type { Problem } from '../errors/problem.js';

const STRING_FIELDS = ['code', 'message', 'severity', 'file', 'unit', 'hint'] as const;
const NUMBER_FIELDS = ['line', 'column', 'offset'] as const;

function unwrap(v: unknown): unknown {
  if (v && typeof v === 'object' && 'signature' in v && 'value' in v) return (v as { value: unknown }).value;
  return typeof v === 'bigint' ? Number(v) : v;
}

/** An `a{sv}` problem dict as a Problem; an empty dict (no problem) gives undefined. */
export function decodeProblem(dict: Record<string, unknown>): Problem | undefined {
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(dict)) plain[k] = unwrap(v);
  if (typeof plain.code !== 'string' || typeof plain.message !== 'string') return undefined;
  const p: Record<string, unknown> = { code: plain.code, message: plain.message };
  for (const f of STRING_FIELDS) if (typeof plain[f] === 'string') p[f] = plain[f];
  for (const f of NUMBER_FIELDS) if (typeof plain[f] === 'number') p[f] = plain[f];
  return p as unknown as Problem;
}
