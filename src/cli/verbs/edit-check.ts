/**
 * `crtosctl edit`'s check before it installs anything: the whole unit set as it would be with the
 * edit, loaded and checked by the functions `crtosctl validate` uses (loadUnits, then checkOnMachine
 * offline, as validate without --root), on a copy of the unit directories with the edited file in place, so
 * nothing unchecked ever lands in the real ones. The problems name the real paths.
 */
import { cp, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { loadUnits } from '../../units/load.js';
import { checkOnMachine } from '../../conditions/check-on-machine.js';
import { hasErrors, type Problem } from '../../errors/problem.js';

export interface EditCheck {
  valid: boolean;
  problems: Problem[];
  /** The file texts, by real path, for renderProblems. */
  sources: Map<string, string>;
}

export async function checkWithEdit(directories: readonly string[], target: { directory: string; path: string }, text: string): Promise<EditCheck> {
  const stage = await mkdtemp(join(tmpdir(), 'crtosctl-edit-check-'));
  try {
    const copies = directories.map((_, i) => join(stage, String(i)));
    await Promise.all(directories.map(async (d, i) => (existsSync(d) ? cp(d, copies[i]!, { recursive: true }) : undefined)));
    const staged = join(copies[directories.indexOf(target.directory)]!, relative(target.directory, target.path));
    await mkdir(dirname(staged), { recursive: true });
    await writeFile(staged, text);
    const loaded = await loadUnits({ directories: copies });
    const problems = [...loaded.problems];
    // What validate runs without --root (the machine's facts and files unknown offline).
    if (loaded.set) problems.push(...(await checkOnMachine({ set: loaded.set, sources: loaded.sources, machine: undefined, facts: undefined })).problems);
    // Back to the real paths: the copies are this check's business only.
    const real = (file: string): string => {
      const i = copies.findIndex((c) => file === c || file.startsWith(`${c}/`));
      return i < 0 ? file : directories[i] + file.slice(copies[i]!.length);
    };
    return {
      valid: !hasErrors(problems),
      problems: problems.map((p) => (p.file === undefined ? p : { ...p, file: real(p.file) })),
      sources: new Map([...loaded.sources].map(([file, t]) => [real(file), t])),
    };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
