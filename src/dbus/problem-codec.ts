/**
 * Problems on the bus as `a{sv}` dicts holding only the fields a problem has, so clients get the
 * same structured data crtosd logs (code, file, line, hint…) and can render or print it as JSON.
 */
import dbus from 'dbus-next';
import type { Problem } from '../errors/problem.js';

const STRING_FIELDS = ['code', 'message', 'severity', 'file', 'unit', 'hint'] as const;
const NUMBER_FIELDS = ['line', 'column', 'offset'] as const;

export type VariantDict = Record<string, InstanceType<typeof dbus.Variant>>;

export function encodeProblem(p: Problem | undefined): VariantDict {
  const out: VariantDict = {};
  if (!p) return out;
  for (const f of STRING_FIELDS) {
    const v = p[f];
    if (typeof v === 'string') out[f] = new dbus.Variant('s', v);
  }
  for (const f of NUMBER_FIELDS) {
    const v = p[f];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) out[f] = new dbus.Variant('u', v);
  }
  return out;
}

export { decodeProblem } from './problem-decode.js';
