/**
 * loadUnits: the unit directories → a validated UnitSet, or every problem found, with the file
 * texts for rendering. The only part of src/units that touches the file system; the work itself is
 * buildUnitSet (pure).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hasErrors, type Problem } from '../errors/problem.js';
import type { UnitSet } from './types.js';
import { discoverUnitFiles, type DiscoveredFile } from './discover.js';
import { buildUnitSetInTurns, type UnitSourceFile } from './build.js';
import { readUnitFile, type ReadOutcome } from './read-unit-file.js';

/** Highest precedence first: local configuration, runtime, then the distribution's units. */
export const DEFAULT_UNIT_DIRECTORIES: string[] = ['/etc/crtos/units', '/run/crtos/units', '/usr/lib/crtos/units'];

export interface LoadOptions {
  /** Unit directories, highest precedence first; default DEFAULT_UNIT_DIRECTORIES. `--units` replaces the list. */
  directories?: string[];
  /** When given, every machine file a unit names must exist under this directory (UNIT_FILE_MISSING). */
  root?: string;
  /** Relative directories resolve against this; default process.cwd(). */
  cwd?: string;
  /**
   * A directory that does not exist is an error (UNIT_DIRECTORY_MISSING) instead of being skipped.
   * Off by default: like systemd, the daemon reads whichever of its directories exist.
   * `crtosctl validate` turns it on for directories the user named.
   */
  requireDirectories?: boolean;
}

export interface LoadResult {
  /** Present only when there are no errors. */
  set?: UnitSet;
  /** All errors and warnings of the load, positions filled in. */
  problems: Problem[];
  /** file -> text, for renderProblems(problems, { sources }). */
  sources: Map<string, string>;
}

const READ_CONCURRENCY = 64;

async function readAll(files: readonly DiscoveredFile[], problems: Problem[]): Promise<UnitSourceFile[]> {
  const outcomes: ReadOutcome[] = new Array(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      outcomes[i] = await readUnitFile(files[i]!.file, files[i]!.path);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, worker));
  // In file order, whichever read finished first, so that the problems come in a stable order.
  const out: UnitSourceFile[] = [];
  files.forEach((f, i) => {
    const { text, problem } = outcomes[i]!;
    if (problem) problems.push(problem);
    else out.push(f.dropInFor === undefined ? { file: f.file, text } : { file: f.file, text, dropInFor: f.dropInFor });
  });
  return out;
}

/** Never throws for bad input: every problem is in the result. */
export async function loadUnits(opts: LoadOptions = {}): Promise<LoadResult> {
  const directories = opts.directories ?? DEFAULT_UNIT_DIRECTORIES;
  const problems: Problem[] = [];
  const sources = new Map<string, string>();
  try {
    const found = await discoverUnitFiles(directories, { cwd: opts.cwd, requireDirectories: opts.requireDirectories === true });
    for (const p of found.problems) problems.push(p);
    const files = await readAll(found.files, problems);
    for (const f of files) sources.set(f.file, f.text);
    const root = opts.root;
    const built = await buildUnitSetInTurns(files, {
      directories: [...directories],
      fileExists: root === undefined ? undefined : (path) => existsSync(join(root, path)),
    });
    // A loop, not push(...): a file of 100,000 unknown fields has as many problems, too many arguments.
    for (const p of built.problems) problems.push(p);
    const failed = hasErrors(problems);
    return failed ? { problems, sources } : { set: built.set, problems, sources };
  } catch (e) {
    // A bug, not bad input; still reported as data so the daemon keeps its last good set.
    problems.push({ code: 'UNIT_INTERNAL', message: `loading units failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}` });
    return { problems, sources };
  }
}
