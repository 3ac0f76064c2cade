/**
 * Specifiers in unit strings, systemd style: `%H` and friends expand to the machine's facts, so
 * one unit tree names per-machine files (`system: /etc/jailhouse/%b.cell`). They are expanded in
 * every string a unit gives (paths, command lines, environment, description, …) except where a
 * string names a unit or is the unit's identity: kind, name, requires/wants/after/before, the
 * fields that refer to another unit, and the conditions (which match the facts themselves).
 * Deviation: systemd's %b is the boot id; here it is the board id (see facts/types.ts boardId).
 */
import type { MachineIdentity } from '../facts/types.js';
import { boardId, shortHostname } from '../facts/types.js';
import type { ValuePath } from '../units/yaml-source.js';

export const SPECIFIERS = {
  H: 'hostname',
  l: 'short hostname (up to the first dot)',
  m: 'machine id',
  a: 'architecture',
  b: 'board id',
  v: 'kernel release',
  n: 'unit id',
  N: 'unit name',
  '%': 'a literal %',
} as const;

export type SpecifierValues = Record<Exclude<keyof typeof SPECIFIERS, '%'>, string>;

/** Top-level fields whose strings are never expanded. */
const UNEXPANDED = new Set(['kind', 'name', 'requires', 'wants', 'after', 'before', 'conditions']);

/** The machine-dependent values (the unit's own are added per unit). */
export function machineSpecifiers(facts: MachineIdentity): Omit<SpecifierValues, 'n' | 'N'> {
  return { H: facts.hostname, l: shortHostname(facts.hostname), m: facts.machineId, a: facts.architecture, b: facts.board.id || boardId(facts.board), v: facts.kernel.release };
}

/** Offsets of the `%` of each unknown specifier in `text` (a `%` at the end is one too). */
export function unknownSpecifiers(text: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf('%'); i >= 0; i = text.indexOf('%', i + 2)) {
    if (!(text[i + 1]! in SPECIFIERS) || i + 1 >= text.length) out.push(i);
  }
  return out;
}

export function expandString(text: string, values: SpecifierValues): string {
  if (!text.includes('%')) return text;
  return text.replace(/%(.)/g, (_, c: string) => (c === '%' ? '%' : (values[c as keyof SpecifierValues] ?? `%${c}`)));
}

/** Whether a string at this path of a unit takes specifiers; `references` are the kind's reference fields (dotted). */
export function takesSpecifiers(path: ValuePath, references: ReadonlySet<string>): boolean {
  if (path.length === 0) return true;
  if (UNEXPANDED.has(String(path[0]))) return false;
  return !references.has(path.join('.'));
}

/** Every string of `value` that takes specifiers, with its path. */
export function* specifierStrings(value: unknown, references: ReadonlySet<string>, path: (string | number)[] = []): Generator<{ path: ValuePath; text: string }> {
  if (typeof value === 'string') {
    if (takesSpecifiers(path, references)) yield { path: [...path], text: value };
    return;
  }
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
  if (path.length > 0 && !takesSpecifiers(path, references)) return;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) yield* specifierStrings(v, references, [...path, k]);
}

/** A copy of `value` with its strings expanded where they take specifiers; the same object when nothing changes. */
export function expandValue<T>(value: T, values: SpecifierValues, references: ReadonlySet<string>, path: (string | number)[] = []): T {
  if (typeof value === 'string') return (takesSpecifiers(path, references) ? expandString(value, values) : value) as T;
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) return value;
  if (path.length > 0 && !takesSpecifiers(path, references)) return value;
  let changed = false;
  if (Array.isArray(value)) {
    const out = value.map((v, i) => {
      const e = expandValue(v, values, references, [...path, i]);
      changed ||= e !== v;
      return e;
    });
    return (changed ? out : value) as T;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const e = expandValue(v, values, references, [...path, k]);
    changed ||= e !== v;
    out[k] = e;
  }
  return (changed ? out : value) as T;
}
