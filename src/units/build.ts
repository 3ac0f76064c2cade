/**
 * Unit file texts → a validated UnitSet, or every problem found. Pure: no file system access (the
 * caller reads the files, and may inject a file-existence check for `--root`), so the engine and the
 * tests can build sets from text in memory.
 *
 * Steps: parse each file; sort documents into units and drop-ins, refusing duplicate ids
 * (identify.ts); merge drop-ins and check each unit against its kind's schema (check-unit.ts);
 * resolve references and dependencies (dependencies.ts); find ordering cycles and order the set in
 * layers (graph.ts). Problems of every step are collected, never thrown.
 */
import { isError, type Problem } from '../errors/problem.js';
import { runSteps, runStepsInTurns } from '../lib/turns.js';
import { definitionOf, kindNames } from '../kinds/index.js';
import type { Unit, UnitSet } from './types.js';
import { parseSourceSteps, type SourceDocument } from './yaml-source.js';
import { formatPath } from './issues.js';
import { buildGraph } from './graph.js';
import { BuildContext, type Candidate } from './build-context.js';
import { attachDropIns, identifyUnits } from './identify.js';
import { checkUnit } from './check-unit.js';
import { collectEdges, fieldPath } from './dependencies.js';

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

export function buildUnitSet(files: readonly UnitSourceFile[], opts: BuildOptions = {}): BuildResult {
  return runSteps(buildSteps(files, opts));
}

/**
 * The same, a few milliseconds at a time: the daemon's loop turns between files and between units
 * (parsing and checking a hundred units took 35-50 ms of CPU in one turn on a busy machine).
 */
export function buildUnitSetInTurns(files: readonly UnitSourceFile[], opts: BuildOptions = {}): Promise<BuildResult> {
  return runStepsInTurns(buildSteps(files, opts));
}

/** buildUnitSet's work, yielding after each document parsed and each unit checked. */
function* buildSteps(files: readonly UnitSourceFile[], opts: BuildOptions): Generator<void, BuildResult, void> {
  const ctx = new BuildContext();
  const unitDocs: SourceDocument[] = [];
  const dropInDocs = new Map<string, SourceDocument[]>();
  for (const source of files) {
    ctx.addFile(source.file, source.text);
    const parsed = yield* parseSourceSteps(source.file, source.text);
    for (const p of parsed.problems) {
      ctx.problems.push(p);
      if (isError(p)) ctx.unreadable.push(`${p.file}:${p.line}`);
    }
    if (parsed.problems.length === 0 && parsed.documents.every((d) => d.value === null)) reportEmpty(ctx, source);
    // Loops, not push(...list): spread arguments overflow the stack for lists of some 100,000.
    const into = source.dropInFor === undefined ? unitDocs : (dropInDocs.get(source.dropInFor) ?? []);
    if (source.dropInFor !== undefined) dropInDocs.set(source.dropInFor, into);
    for (const doc of parsed.documents) into.push(doc);
    yield;
  }

  const { candidates, nameless } = identifyUnits(ctx, unitDocs);
  attachDropIns(ctx, candidates, dropInDocs);
  for (const candidate of [...candidates.values(), ...nameless]) {
    checkUnit(ctx, candidate);
    yield;
  }

  const edges = collectEdges(ctx, candidates);
  const valid = [...candidates.values()].filter((c): c is Candidate & { unit: Unit } => c.unit !== undefined);
  if (opts.fileExists) checkFiles(ctx, valid, opts.fileExists);
  checkOnePerMachine(ctx, valid);

  const graph = buildGraph(
    valid.map((c) => c.id),
    edges,
  );
  for (const cycle of graph.cycles) {
    const { candidate, path } = cycle.origin;
    const chain = [...cycle.units, cycle.units[0]!].join(' → ');
    const others = cycle.alsoInvolved.length ? `; also in this knot: ${cycle.alsoInvolved.join(', ')}` : '';
    ctx.report('UNIT_DEPENDENCY_CYCLE', `dependency cycle: ${chain} (each starts after the next)${others}`, ctx.locateIn(candidate, path), {
      unit: candidate.id,
      hint: 'remove one of these dependencies; requires, wants and references order too, like after',
    });
  }

  const problems = ctx.sortedProblems();
  if (ctx.hasErrors()) return { problems };
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

/**
 * A file with no unit in it (empty, or only comments) is an error. In systemd an empty unit file
 * masks the unit; here the set is declarative, so a unit file truncated by a failed save would
 * stop its units at the next reload. Deleting the file says that clearly; an empty one does not.
 */
function reportEmpty(ctx: BuildContext, source: UnitSourceFile): void {
  const dropIn = source.dropInFor !== undefined;
  ctx.report('UNIT_EMPTY_FILE', dropIn ? 'this drop-in is empty (or holds only comments)' : 'no unit in this file: it is empty (or holds only comments)', { file: source.file, line: 1, column: 1 }, {
    ...(dropIn ? { unit: source.dropInFor } : {}),
    hint: dropIn ? 'write the fields it changes, or delete the file' : 'write a unit in it (kind: ..., name: ...), or delete the file to remove its units',
  });
}

/** A kind a machine has one of (its partitioning hypervisor): a second unit is a conflict, not a choice. */
function checkOnePerMachine(ctx: BuildContext, units: readonly (Candidate & { unit: Unit })[]): void {
  for (const kind of kindNames()) {
    const one = definitionOf(kind).onePerMachine;
    if (!one) continue;
    const same = units.filter((c) => c.kind === kind);
    const first = same[0];
    for (const other of same.slice(1)) {
      ctx.report('UNIT_CONFLICT', `a second ${kind.toLowerCase()}: ${first!.id} is already defined in ${first!.unit.source.file}:${first!.unit.source.line}`, ctx.locateIn(other, ['kind']), {
        unit: other.id,
        hint: one.hint,
      });
    }
  }
}

/** `--root`: every machine file a unit names must exist. */
function checkFiles(ctx: BuildContext, units: readonly (Candidate & { unit: Unit })[], fileExists: (path: string) => boolean): void {
  for (const c of units) {
    for (const ref of definitionOf(c.kind).files(c.unit.spec)) {
      if (fileExists(ref.path)) continue;
      const path = fieldPath(ref.field);
      ctx.report('UNIT_FILE_MISSING', `'${formatPath(path)}' names ${ref.path}, which does not exist`, ctx.locateIn(c, path), {
        unit: c.id,
        hint: 'install the file, or correct the path (paths are resolved under --root)',
      });
    }
  }
}
