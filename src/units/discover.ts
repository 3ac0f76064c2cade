/**
 * Finding unit files: the unit directories in precedence order, `*.yaml`/`*.yml` files in each, a
 * file hiding the same-named file in every lower directory, and drop-in directories `ID.d/` whose
 * files are merged over unit ID in file-name order (a drop-in hides the same-named drop-in of that
 * unit in lower directories too). Dot files and editor leftovers are ignored.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve, basename } from 'node:path';
import type { Problem } from '../errors/problem.js';
import { kindOfSuffix } from '../kinds/index.js';
import { describeReadError } from './read-unit-file.js';

export interface DiscoveredFile {
  /** The name shown to the user: the directory as given, joined with the file name. */
  file: string;
  /** Where to read it. */
  path: string;
  /** For drop-ins: the unit id of their `ID.d/` directory. */
  dropInFor?: string;
}

export interface DiscoverOptions {
  /** Relative directories resolve against this (default: the process's working directory). */
  cwd?: string;
  /** A missing directory is an error (for directories the user named) instead of being skipped. */
  requireDirectories?: boolean;
}

const DROPIN_DIR_SHAPE = /^([A-Za-z0-9_][A-Za-z0-9_.@-]*\.([a-z][a-z0-9]*))\.d$/;

/** `nuttx.cell.d` → `nuttx.cell`, when the suffix names a registered kind (read at call time: kinds can be registered late). */
function dropInUnit(dir: string): string | undefined {
  const m = DROPIN_DIR_SHAPE.exec(dir);
  return m && kindOfSuffix(m[2]!) !== undefined ? m[1] : undefined;
}

/** Unit and drop-in files are YAML; everything else in the directories is left alone. */
export function isUnitFileName(name: string): boolean {
  if (name.startsWith('.') || name.startsWith('#')) return false;
  if (name.endsWith('~') || /\.(swp|swo|swx|bak|orig|rej|dpkg-[a-z]+|rpm(new|save|orig))$/.test(name)) return false;
  return /\.ya?ml$/.test(name);
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Entry {
  name: string;
  kind: 'file' | 'dir' | 'other';
}

async function list(dir: string): Promise<Entry[]> {
  const dirents = await readdir(dir, { withFileTypes: true });
  const entries: Entry[] = [];
  for (const d of dirents) {
    let kind: Entry['kind'] = d.isFile() ? 'file' : d.isDirectory() ? 'dir' : 'other';
    if (d.isSymbolicLink()) {
      // Links are followed, as systemd does for unit files; a dangling link is skipped. A link that
      // cannot be followed for another reason (a loop, no permission) counts as a file, so that
      // reading it reports why instead of the unit silently missing.
      const target = await stat(join(dir, d.name)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : 'unreadable'));
      kind = target === 'unreadable' || target?.isFile() ? 'file' : target?.isDirectory() ? 'dir' : 'other';
    }
    entries.push({ name: d.name, kind });
  }
  return entries.sort((a, b) => byName(a.name, b.name));
}

export async function discoverUnitFiles(directories: readonly string[], opts: DiscoverOptions = {}): Promise<{ files: DiscoveredFile[]; problems: Problem[] }> {
  const cwd = opts.cwd ?? process.cwd();
  const problems: Problem[] = [];
  const units: DiscoveredFile[] = [];
  const seenUnitNames = new Set<string>();
  // unit id -> drop-in file name -> file (the first, i.e. highest precedence, wins)
  const dropIns = new Map<string, Map<string, DiscoveredFile>>();

  for (const dir of directories) {
    const absolute = resolve(cwd, dir);
    let entries: Entry[];
    try {
      entries = await list(absolute);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        // A single file given with --units: load just that file.
        const name = basename(dir);
        if (!seenUnitNames.has(name)) units.push({ file: dir, path: absolute });
        seenUnitNames.add(name);
        continue;
      }
      if (code === 'ENOENT' && !opts.requireDirectories) continue;
      const why = describeReadError(e);
      problems.push({
        code: code === 'ENOENT' ? 'UNIT_DIRECTORY_MISSING' : 'UNIT_READ_FAILED',
        message: code === 'ENOENT' ? `unit directory ${dir} does not exist` : `cannot read unit directory ${dir}: ${why.message}`,
        file: dir,
        hint: code === 'ENOENT' ? 'check the --units argument' : why.hint,
      });
      continue;
    }
    for (const entry of entries) {
      if (entry.kind === 'file' && isUnitFileName(entry.name)) {
        if (seenUnitNames.has(entry.name)) continue; // hidden by a higher-precedence directory
        seenUnitNames.add(entry.name);
        units.push({ file: join(dir, entry.name), path: join(absolute, entry.name) });
        continue;
      }
      const id = entry.kind === 'dir' ? dropInUnit(entry.name) : undefined;
      if (id === undefined) continue;
      const forUnit = dropIns.get(id) ?? new Map<string, DiscoveredFile>();
      dropIns.set(id, forUnit);
      let inner: Entry[];
      try {
        inner = await list(join(absolute, entry.name));
      } catch (e) {
        const why = describeReadError(e);
        problems.push({ code: 'UNIT_READ_FAILED', message: `cannot read drop-in directory: ${why.message}`, file: join(dir, entry.name), hint: why.hint });
        continue;
      }
      for (const file of inner) {
        if (file.kind !== 'file' || !isUnitFileName(file.name) || forUnit.has(file.name)) continue;
        forUnit.set(file.name, { file: join(dir, entry.name, file.name), path: join(absolute, entry.name, file.name), dropInFor: id });
      }
    }
  }

  const files = [...units];
  for (const [, forUnit] of [...dropIns].sort((a, b) => byName(a[0], b[0]))) {
    for (const name of [...forUnit.keys()].sort(byName)) files.push(forUnit.get(name)!);
  }
  return { files, problems };
}
