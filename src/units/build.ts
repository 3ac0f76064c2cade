/**
 * Unit file texts → a validated UnitSet, or every problem found. Pure: no file system access (the
 * caller reads the files, and may inject a file-existence check for `--root`), so the engine and the
 * tests can build sets from text in memory.
 *
 * Steps: parse each file; sort documents into units and drop-ins; refuse duplicate ids; merge
 * drop-ins; check each unit against its kind's schema; resolve references and dependencies; find
 * ordering cycles; order the set in layers. Problems of every step are collected, never thrown.
 */
import type { Problem } from '../errors/problem.js';
import { KINDS, KIND_NAMES, unitId, type KindName } from './kinds/index.js';
import type { Unit, UnitSet } from './types.js';
import { parseSource, SourcePositions, type SourceDocument, type ValuePath } from './yaml-source.js';
import { isMapping, mergeValues, originOf } from './merge.js';
import { issuesToProblems, formatPath, type PathProblem } from './issues.js';
import { closest, didYouMean } from './did-you-mean.js';
import { buildGraph, type Edge } from './graph.js';

export interface UnitSourceFile {
  /** The file's name as the user should see it in messages. */
  file: string;
  text: string;
  /** Set for a drop-in: the id of the unit it applies to (its directory is `ID.d/`). */
  dropInFor?: string;
}

export interface BuildOptions {
  /** Recorded in the set: the directories the files came from, highest precedence first. */
  directories?: string[];
  /** Asked for every machine file a unit names; false means missing (UNIT_FILE_MISSING). */
  fileExists?: (path: string) => boolean;
}

export interface BuildResult {
  /** Present only when there is no error (warnings allowed). */
  set?: UnitSet;
  problems: Problem[];
}

interface Candidate {
  id: string;
  kind: KindName;
  name: string;
  layers: SourceDocument[];
  /** The document with its drop-ins merged, before the schema. */
  merged?: unknown;
  unit?: Unit;
}

interface Located {
  file: string;
  line: number;
  column: number;
}

const kindList = KIND_NAMES.join(', ');

/** `load.0.image` → ['load', 0, 'image'] */
function fieldPath(field: string): ValuePath {
  return field.split('.').map((step) => (/^\d+$/.test(step) ? Number(step) : step));
}

export function buildUnitSet(files: readonly UnitSourceFile[], opts: BuildOptions = {}): BuildResult {
  const problems: Problem[] = [];
  const positions = new Map<string, SourcePositions>();
  const fileOrder = new Map<string, number>();
  const unitDocs: SourceDocument[] = [];
  // Documents that could not become a unit (broken YAML, no kind, no name): a reference to a unit
  // that "does not exist" may be to one of them, which the hint should say.
  const unreadable: string[] = [];
  const dropInDocs = new Map<string, SourceDocument[]>();

  for (const source of files) {
    if (!fileOrder.has(source.file)) fileOrder.set(source.file, fileOrder.size);
    positions.set(source.file, new SourcePositions(source.file, source.text));
    const parsed = parseSource(source.file, source.text);
    problems.push(...parsed.problems);
    for (const p of parsed.problems) if ((p.severity ?? 'error') === 'error') unreadable.push(`${p.file}:${p.line}`);
    if (source.dropInFor === undefined) unitDocs.push(...parsed.documents);
    else {
      const list = dropInDocs.get(source.dropInFor) ?? [];
      list.push(...parsed.documents);
      dropInDocs.set(source.dropInFor, list);
    }
  }

  const locate = (doc: SourceDocument, path: ValuePath, atKey = false): Located => {
    if (path.length === 0) return { file: doc.file, line: doc.line, column: doc.column };
    const position = positions.get(doc.file)!.locate(doc.index, path, atKey);
    return { file: doc.file, ...position };
  };
  const report = (code: Problem['code'], message: string, doc: SourceDocument, path: ValuePath, extra: Partial<Problem> = {}, atKey = false): void => {
    problems.push({ code, message, ...locate(doc, path, atKey), ...extra });
  };

  // Units: one per mapping document, identified by kind and name.
  const candidates = new Map<string, Candidate>();
  for (const doc of unitDocs) {
    if (doc.value === null) continue;
    if (!isMapping(doc.value)) {
      report('UNIT_NOT_A_MAPPING', 'a unit must be a mapping of fields (kind: ..., name: ...)', doc, []);
      continue;
    }
    const kind = doc.value.kind;
    if (kind === undefined) {
      report('UNIT_MISSING_KIND', 'this unit has no kind', doc, [], { hint: `add 'kind:' with one of ${kindList}` });
      unreadable.push(`${doc.file}:${doc.line}`);
      continue;
    }
    if (typeof kind !== 'string' || !(KIND_NAMES as readonly string[]).includes(kind)) {
      const suggestion = typeof kind === 'string' ? didYouMean(kind, KIND_NAMES) : undefined;
      unreadable.push(`${doc.file}:${doc.line}`);
      report('UNIT_UNKNOWN_KIND', `unknown kind ${typeof kind === 'string' ? `'${kind}'` : 'value'}`, doc, ['kind'], {
        hint: suggestion ?? `kind is one of ${kindList}`,
      });
      continue;
    }
    const name = doc.value.name;
    const typedKind = kind as KindName;
    const id = typeof name === 'string' ? unitId(name, typedKind) : `?.${typedKind.toLowerCase()}`;
    const first = candidates.get(id);
    if (first && typeof name === 'string') {
      const where = first.layers[0]!;
      report('UNIT_DUPLICATE_ID', `a unit with id '${id}' is already defined`, doc, ['name'], {
        unit: id,
        hint: `first defined at ${where.file}:${where.line}; rename one of them, or use a drop-in (${id}.d/) to change it`,
      });
      continue;
    }
    if (typeof name !== 'string') {
      // Still check the rest of the document; it just cannot take part in the set.
      validate({ id, kind: typedKind, name: '', layers: [doc] });
      unreadable.push(`${doc.file}:${doc.line}`);
      continue;
    }
    candidates.set(id, { id, kind: typedKind, name, layers: [doc] });
  }

  // Drop-ins join the unit of their directory, in the order given (file name order).
  for (const [id, docs] of dropInDocs) {
    const candidate = candidates.get(id);
    const reported = new Set<string>();
    for (const doc of docs) {
      if (doc.value === null) continue;
      if (!isMapping(doc.value)) {
        report('UNIT_NOT_A_MAPPING', 'a drop-in must be a mapping of the fields it changes', doc, [], { unit: id });
        continue;
      }
      if (!candidate) {
        if (reported.has(doc.file)) continue;
        reported.add(doc.file);
        const ids = [...candidates.keys()];
        problems.push({
          code: 'UNIT_DROPIN_ORPHAN',
          severity: 'warning',
          message: `drop-in for '${id}', but no unit has that id`,
          ...locate(doc, []),
          unit: id,
          hint: didYouMean(id, ids) ?? 'the directory must be named after a unit id, NAME.KIND.d/',
        });
        continue;
      }
      let consistent = true;
      for (const field of ['kind', 'name'] as const) {
        const given = doc.value[field];
        const expected = field === 'kind' ? candidate.kind : candidate.name;
        if (given !== undefined && given !== expected) {
          consistent = false;
          report('UNIT_DROPIN_MISMATCH', `this drop-in for '${id}' sets ${field} '${String(given)}'`, doc, [field], {
            unit: id,
            hint: `a drop-in cannot change ${field}; remove the line or set it to '${expected}'`,
          });
        }
      }
      if (consistent) candidate.layers.push(doc);
    }
  }

  function validate(candidate: Candidate): void {
    const merged = candidate.layers.slice(1).reduce((acc, layer) => mergeValues(acc, layer.value), candidate.layers[0]!.value);
    candidate.merged = merged;
    const schema = KINDS[candidate.kind].schema;
    const result = schema.safeParse(merged);
    if (result.success) {
      const base = candidate.layers[0]!;
      const dropIns = [...new Set(candidate.layers.slice(1).map((l) => l.file))];
      candidate.unit = {
        id: candidate.id,
        kind: candidate.kind,
        name: candidate.name,
        spec: result.data,
        source: { file: base.file, line: base.line, column: base.column, dropIns },
      } as Unit;
      return;
    }
    for (const p of issuesToProblems(result.error.issues, schema, merged)) {
      const origin = originOf(candidate.layers, p.path);
      problems.push(toProblem(p, origin, candidate.name === '' ? undefined : candidate.id));
    }
  }

  function toProblem(p: PathProblem, doc: SourceDocument, unit: string | undefined): Problem {
    const problem: Problem = { code: p.code, message: p.message, ...locate(doc, p.path, p.atKey) };
    if (unit !== undefined) problem.unit = unit;
    if (p.hint) problem.hint = p.hint;
    return problem;
  }

  for (const candidate of candidates.values()) validate(candidate);

  // References and dependencies, among units that passed their schema.
  const valid = [...candidates.values()].filter((c): c is Candidate & { unit: Unit } => c.unit !== undefined);
  const edges: Edge<{ candidate: Candidate; path: ValuePath }>[] = [];
  const namesByKind = new Map<KindName, string[]>();
  for (const c of candidates.values()) {
    const names = namesByKind.get(c.kind);
    if (names) names.push(c.name);
    else namesByKind.set(c.kind, [c.name]);
  }

  const unknownReference = (c: Candidate, path: ValuePath, target: string, severity: 'error' | 'warning'): void => {
    const doc = originOf(c.layers, path);
    const [targetName, targetKind] = splitId(target);
    const sameKind = targetKind ? namesByKind.get(targetKind) ?? [] : [];
    const nearName = closest(targetName, sameKind);
    const otherKinds = KIND_NAMES.filter((k) => k !== targetKind && candidates.has(unitId(targetName, k)));
    let hint: string;
    if (nearName !== undefined) hint = `did you mean '${unitId(nearName, targetKind!)}'?`;
    else if (otherKinds.length) hint = `there is ${otherKinds.map((k) => `'${unitId(targetName, k)}'`).join(', ')}, but this needs ${/^[AEIOU]/.test(targetKind ?? '') ? 'an' : 'a'} ${targetKind}`;
    else hint = sameKind.length ? `${targetKind} units: ${sameKind.map((n) => unitId(n, targetKind!)).join(', ')}` : `no ${targetKind} unit is defined`;
    if (unreadable.length) hint += `; or it is the unit at ${unreadable[0]}${unreadable.length > 1 ? ` (or ${unreadable.length - 1} more)` : ''} that has an error above`;
    const field = formatPath(path);
    const message =
      severity === 'error'
        ? `'${field}' refers to '${target}', which does not exist`
        : `'${field}' orders against '${target}', which does not exist`;
    const problem: Problem = { code: severity === 'error' ? 'UNIT_UNKNOWN_REFERENCE' : 'UNIT_UNKNOWN_ORDER_TARGET', message, ...locate(doc, path), unit: c.id, hint };
    if (severity === 'warning') problem.severity = 'warning';
    problems.push(problem);
  };

  for (const c of valid) {
    const spec = c.unit.spec;
    for (const ref of KINDS[c.kind].references(spec)) {
      const path = fieldPath(ref.field);
      if (!candidates.has(ref.target)) unknownReference(c, path, ref.target, 'error');
      else edges.push({ from: c.id, to: ref.target, type: 'requires', origin: { candidate: c, path } });
    }
    for (const type of ['requires', 'wants', 'after', 'before'] as const) {
      spec[type].forEach((target, i) => {
        const path: ValuePath = [type, i];
        if (!candidates.has(target)) unknownReference(c, path, target, type === 'requires' || type === 'wants' ? 'error' : 'warning');
        else edges.push({ from: c.id, to: target, type, origin: { candidate: c, path } });
      });
    }
    if (opts.fileExists) {
      for (const ref of KINDS[c.kind].files(spec)) {
        if (opts.fileExists(ref.path)) continue;
        const path = fieldPath(ref.field);
        problems.push({
          code: 'UNIT_FILE_MISSING',
          message: `'${formatPath(path)}' names ${ref.path}, which does not exist`,
          ...locate(originOf(c.layers, path), path),
          unit: c.id,
          hint: 'install the file, or correct the path (paths are resolved under --root)',
        });
      }
    }
  }

  // A unit that failed its schema still gets its dependency lists checked, so one run shows all.
  for (const c of candidates.values()) {
    if (c.unit || !isMapping(c.merged)) continue;
    for (const type of ['requires', 'wants', 'after', 'before'] as const) {
      const list = c.merged[type];
      if (!Array.isArray(list)) continue;
      list.forEach((target, i) => {
        if (typeof target === 'string' && splitId(target)[1] !== undefined && !candidates.has(target)) {
          unknownReference(c, [type, i], target, type === 'requires' || type === 'wants' ? 'error' : 'warning');
        }
      });
    }
  }

  const ids = valid.map((c) => c.id);
  const graph = buildGraph(ids, edges);
  for (const cycle of graph.cycles) {
    const { candidate, path } = cycle.origin;
    const chain = [...cycle.units, cycle.units[0]!].join(' → ');
    const others = cycle.alsoInvolved.length ? `; also in this knot: ${cycle.alsoInvolved.join(', ')}` : '';
    problems.push({
      code: 'UNIT_DEPENDENCY_CYCLE',
      message: `dependency cycle: ${chain} (each starts after the next)${others}`,
      ...locate(originOf(candidate.layers, path), path),
      unit: candidate.id,
      hint: 'remove one of these dependencies; requires, wants and references order too, like after',
    });
  }

  sortProblems(problems, fileOrder);
  if (problems.some((p) => (p.severity ?? 'error') === 'error')) return { problems };
  return {
    problems,
    set: {
      units: new Map(valid.map((c) => [c.id, c.unit])),
      deps: graph.deps,
      layers: graph.layers,
      directories: opts.directories ?? [],
    },
  };
}

function splitId(id: string): [string, KindName | undefined] {
  const dot = id.lastIndexOf('.');
  const suffix = id.slice(dot + 1);
  const kind = KIND_NAMES.find((k) => k.toLowerCase() === suffix);
  return [id.slice(0, dot), kind];
}

/** Compiler order: by file (in load order), then line and column; stable otherwise. */
function sortProblems(problems: Problem[], fileOrder: Map<string, number>): void {
  const keyed = problems.map((p, i) => ({ p, i }));
  keyed.sort(
    (a, b) =>
      (fileOrder.get(a.p.file ?? '') ?? Infinity) - (fileOrder.get(b.p.file ?? '') ?? Infinity) ||
      (a.p.line ?? 0) - (b.p.line ?? 0) ||
      (a.p.column ?? 0) - (b.p.column ?? 0) ||
      a.i - b.i,
  );
  keyed.forEach(({ p }, i) => (problems[i] = p));
}
