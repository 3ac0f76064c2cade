/**
 * Documents → candidate units: each mapping document with a known kind and a name is one unit;
 * duplicate ids are refused, and drop-in documents join the unit of their `ID.d/` directory.
 */
import { findKind, kindNames, unitId, type KindName } from '../kinds/index.js';
import type { SourceDocument } from './yaml-source.js';
import { isMapping } from './merge.js';
import { didYouMean } from './did-you-mean.js';
import type { BuildContext, Candidate } from './build-context.js';
import { excerpt } from './excerpt.js';


export interface Identified {
  /** By id, in document order. */
  candidates: Map<string, Candidate>;
  /** Documents without a usable name: checked against their schema, but never part of the set. */
  nameless: Candidate[];
}

export function identifyUnits(ctx: BuildContext, docs: readonly SourceDocument[]): Identified {
  const candidates = new Map<string, Candidate>();
  const nameless: Candidate[] = [];
  for (const doc of docs) {
    if (doc.value === null) continue; // an empty document
    if (!isMapping(doc.value)) {
      ctx.report('UNIT_NOT_A_MAPPING', 'a unit must be a mapping of fields (kind: ..., name: ...)', ctx.locate(doc, []));
      continue;
    }
    const kind = doc.value.kind;
    if (kind === undefined) {
      ctx.unreadable.push(`${doc.file}:${doc.line}`);
      ctx.report('UNIT_MISSING_KIND', 'this unit has no kind', ctx.locate(doc, []), { hint: `add 'kind:' with one of ${kindNames().join(', ')}` });
      continue;
    }
    if (typeof kind !== 'string' || findKind(kind) === undefined) {
      ctx.unreadable.push(`${doc.file}:${doc.line}`);
      const suggestion = typeof kind === 'string' ? didYouMean(kind, kindNames()) : undefined;
      ctx.report('UNIT_UNKNOWN_KIND', `unknown kind ${typeof kind === 'string' ? `'${excerpt(kind)}'` : 'value'}`, ctx.locate(doc, ['kind']), {
        hint: suggestion ?? `kind is one of ${kindNames().join(', ')}`,
      });
      continue;
    }
    const typedKind = kind as KindName;
    const name = doc.value.name;
    if (typeof name !== 'string') {
      ctx.unreadable.push(`${doc.file}:${doc.line}`);
      nameless.push({ id: `?.${typedKind.toLowerCase()}`, kind: typedKind, name: '', layers: [doc] });
      continue;
    }
    const id = unitId(name, typedKind);
    const first = candidates.get(id);
    if (first) {
      const where = first.layers[0]!;
      ctx.report('UNIT_DUPLICATE_ID', `a unit with id '${excerpt(id)}' is already defined`, ctx.locate(doc, ['name']), {
        unit: id,
        hint: `first defined at ${where.file}:${where.line}; rename one of them, or use a drop-in (${id}.d/) to change it`,
      });
      continue;
    }
    candidates.set(id, { id, kind: typedKind, name, layers: [doc] });
  }
  return { candidates, nameless };
}

/** Appends each drop-in document to its unit's layers, in the order given (file name order). */
export function attachDropIns(ctx: BuildContext, candidates: ReadonlyMap<string, Candidate>, dropIns: ReadonlyMap<string, SourceDocument[]>): void {
  for (const [id, docs] of dropIns) {
    const candidate = candidates.get(id);
    const orphanFiles = new Set<string>();
    for (const doc of docs) {
      if (doc.value === null) continue;
      if (!isMapping(doc.value)) {
        ctx.report('UNIT_NOT_A_MAPPING', 'a drop-in must be a mapping of the fields it changes', ctx.locate(doc, []), { unit: id });
        continue;
      }
      if (!candidate) {
        if (orphanFiles.has(doc.file)) continue; // once per file is enough
        orphanFiles.add(doc.file);
        ctx.report('UNIT_DROPIN_ORPHAN', `drop-in for '${id}', but no unit has that id`, ctx.locate(doc, []), {
          severity: 'warning',
          unit: id,
          hint: didYouMean(id, candidates.keys()) ?? 'the directory must be named after a unit id, NAME.KIND.d/',
        });
        continue;
      }
      let consistent = true;
      for (const field of ['kind', 'name'] as const) {
        const given = doc.value[field];
        const expected = field === 'kind' ? candidate.kind : candidate.name;
        if (given === undefined || given === expected) continue;
        consistent = false;
        ctx.report('UNIT_DROPIN_MISMATCH', `this drop-in for '${id}' sets ${field} '${excerpt(String(given))}'`, ctx.locate(doc, [field]), {
          unit: id,
          hint: `a drop-in cannot change ${field}; remove the line or set it to '${expected}'`,
        });
      }
      if (consistent) candidate.layers.push(doc);
    }
  }
}
