/** Hand-made inputs for the pure planner: the cRTOS example as a UnitSet, descriptions, records. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildUnitSet } from '../../src/units/index.js';
import type { UnitSet } from '../../src/units/types.js';
import { digest } from '../../src/engine/canonical.js';
import type { AppliedRecord, Observation, UnitDescription } from '../../src/engine/types.js';
import { emptyDetails } from '../../src/engine/status.js';

/**
 * The unit files of an example under units/: the cRTOS short form (Link units, generated
 * configurations) by default, or the hand-written one (.cell files, no links).
 */
export function exampleFiles(example: 'crtos' | 'crtos-handwritten' = 'crtos'): Map<string, string> {
  const dir = join(import.meta.dirname, '../../units', example);
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

export function setFrom(files: Map<string, string>): UnitSet {
  const r = buildUnitSet([...files].map(([file, text]) => ({ file, text })));
  if (!r.set) throw new Error(r.problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
  return r.set;
}

/** Descriptions from the specs alone (the planner never reads files). */
export function describe(set: UnitSet, extra: Record<string, Record<string, string>> = {}): Map<string, UnitDescription> {
  const out = new Map<string, UnitDescription>();
  for (const u of set.units.values()) {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(u.spec as Record<string, unknown>)) if (k !== 'kind' && v !== undefined) fields[k] = digest(v);
    Object.assign(fields, extra[u.id] ?? {});
    out.set(u.id, { id: u.id, kind: u.kind, fields, digest: digest(fields), facts: u.kind === 'Cell' ? { cellName: u.name } : {} });
  }
  return out;
}

export function recordsOf(set: UnitSet, descs: Map<string, UnitDescription>): Map<string, AppliedRecord> {
  const out = new Map<string, AppliedRecord>();
  for (const [id, d] of descs) {
    const deps = set.deps.get(id)!;
    out.set(id, { id, kind: d.kind, digest: d.digest, fields: d.fields, facts: d.facts, after: [...deps.after, ...deps.requires, ...deps.wants], requires: deps.requires, phase: 'active', updated: 0 });
  }
  return out;
}

export function observedAll(set: UnitSet, state: Observation['state'], overrides: Record<string, Observation['state']> = {}): Map<string, Observation> {
  return new Map([...set.units.values()].map((u) => [u.id, { state: overrides[u.id] ?? state, subState: '', details: emptyDetails(u.kind) }]));
}
