/**
 * `crtosctl edit UNIT [--full] [--runtime] [--units DIR]...`: systemctl edit for crtos units. The
 * editor ($EDITOR, else $VISUAL, else `editor`, else `vi`) opens a copy of the drop-in
 * ID.d/override.yaml (or, --full, of the unit's whole file) as it is, or a commented template.
 * When the editor ends, the whole unit set with the edit is checked as `crtosctl validate` checks
 * it (edit-check.ts); only a valid edit is installed (written beside its place and renamed over
 * it), then crtosd is asked to reload when it can be reached. On errors they are shown as validate
 * shows them and, when someone is at a terminal, "Edit again? [Y/n]"; otherwise nothing is
 * installed and the exit status is 1. An unchanged or emptied file installs nothing.
 *
 * The unit directories are the daemon's (its UnitDirectories), or those given with --units.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError, type CliContext, type ExitKind } from '../context.js';
import { parseArgs, type ParsedArgs } from '../options.js';
import { OPTIONS } from './edit.options.js';
import { renderProblems } from '../../errors/render.js';
import { ProblemError } from '../../errors/problem.js';
import { CrtosClient } from '../../dbus/client.js';
import { renderOutcome } from '../format/plan.js';
import { loadUnits } from '../../units/load.js';
import { dropInTemplate, editTarget, isBlank, type EditTarget } from './edit-target.js';
import { checkWithEdit } from './edit-check.js';

/** The editors tried in order: the first one set of $EDITOR and $VISUAL, then `editor`, then `vi`. */
export function editorCommands(env: NodeJS.ProcessEnv): string[] {
  const chosen = [env.EDITOR, env.VISUAL].find((e) => e !== undefined && e.trim() !== '');
  return chosen !== undefined ? [chosen] : ['editor', 'vi'];
}

/** Runs the editor on `file` with the terminal; its exit code (127: no such command). */
function runEditor(command: string, file: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done) => {
    // Through sh, so an $EDITOR with arguments (`code --wait`) works as it does for git and systemctl.
    const child = spawn('/bin/sh', ['-c', `${command} "$1"`, 'sh', file], { stdio: 'inherit', env });
    child.on('error', () => done(127));
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

async function edited(ctx: CliContext, file: string): Promise<string | undefined> {
  for (const command of editorCommands(ctx.env)) {
    const code = await runEditor(command, file, ctx.env);
    if (code === 127) continue;
    if (code !== 0) {
      ctx.stderr.write(`Editor '${command}' exited with status ${code}; nothing was installed.\n`);
      return undefined;
    }
    return readFile(file, 'utf8');
  }
  ctx.stderr.write(`No editor found (tried ${editorCommands(ctx.env).join(', ')}); set $EDITOR.\n`);
  return undefined;
}

/** "Edit again? [Y/n]" when someone is at a terminal to answer; no by default otherwise. */
async function askAgain(ctx: CliContext): Promise<boolean> {
  const input = ctx.stdin?.();
  if (!input?.isTTY) return false;
  ctx.stderr.write('Edit again? [Y/n] ');
  const answer = await new Promise<string>((done) => {
    let text = '';
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      if (text.includes('\n')) finish();
    };
    const finish = (): void => {
      input.off('data', onData);
      input.off('end', finish);
      input.pause();
      done(text.split('\n')[0] ?? '');
    };
    input.on('data', onData);
    input.on('end', finish);
  });
  return /^\s*(y(es)?)?\s*$/i.test(answer);
}

/** The unit directories: --units, else the daemon's; and a client when crtosd can be reached. */
async function directoriesAndDaemon(ctx: CliContext, args: ParsedArgs): Promise<{ directories: string[]; client?: CrtosClient }> {
  const given = args.valueLists.get('units') ?? [];
  let client: CrtosClient | undefined;
  try {
    client = await CrtosClient.connect(args.values.get('bus'), ctx.env);
    const daemon = await client.daemon();
    return { directories: given.length > 0 ? given.map((d) => resolve(ctx.cwd, d)) : daemon.unitDirectories, client };
  } catch (e) {
    client?.close();
    if (given.length > 0) return { directories: given.map((d) => resolve(ctx.cwd, d)) };
    if (e instanceof ProblemError) throw new ProblemError(e.problems.map((p) => ({ ...p, hint: `${p.hint ? `${p.hint}; or ` : ''}name the unit directories with --units DIR` })));
    throw e;
  }
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  const id = args.positional[0];
  if (id === undefined || args.positional.length > 1) throw new UsageError('one unit: crtosctl edit [--full] [--runtime] UNIT');
  const { directories, client } = await directoriesAndDaemon(ctx, args);
  try {
    // The unit's file as the unit directories have it now (the set may have errors elsewhere: the edit may fix them).
    const current = await loadUnits({ directories });
    const unitFile = current.set?.units.get(id)?.source.file ?? (client ? (await client.unit(id))?.sourcePath : undefined);
    if (!unitFile) {
      ctx.stderr.write(`Unit ${id} not found in ${directories.join(', ')}.\n`);
      return 'no-such-unit';
    }
    const full = args.flags.has('full');
    const target = editTarget({ id, directories, full, runtime: args.flags.has('runtime'), unitFile });
    if ('error' in target) throw new UsageError(target.error);
    const before = existsSync(target.path) ? await readFile(target.path, 'utf8') : full ? await readFile(unitFile, 'utf8') : dropInTemplate(id, unitFile, await readFile(unitFile, 'utf8'));
    const work = await mkdtemp(join(tmpdir(), 'crtosctl-edit-'));
    const draft = join(work, basename(target.path));
    await writeFile(draft, before);
    try {
      for (;;) {
        const text = await edited(ctx, draft);
        if (text === undefined) return 'failed';
        if (text === before || isBlank(text)) {
          ctx.stdout.write(`${text === before ? 'Unchanged' : 'Empty'}: nothing was installed.\n`);
          return 'ok';
        }
        const check = await checkWithEdit(directories, target, text);
        if (check.valid) {
          await install(target, text);
          ctx.stdout.write(`Installed ${target.path}.\n`);
          return await reload(ctx, client);
        }
        ctx.stderr.write(renderProblems(check.problems, { color: ctx.color, sources: check.sources }));
        ctx.stderr.write(`The unit set would not be valid with this edit; nothing was installed in ${target.directory}.\n`);
        if (!(await askAgain(ctx))) return 'failed';
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  } finally {
    client?.close();
  }
}

/** Written beside its place (a dot file, which no unit directory reads) and renamed over it: readers see the old file or the new one. */
async function install(target: EditTarget, text: string): Promise<void> {
  await mkdir(dirname(target.path), { recursive: true });
  const temporary = join(dirname(target.path), `.${basename(target.path)}.crtosctl-${process.pid}`);
  await writeFile(temporary, text);
  await rename(temporary, target.path);
}

async function reload(ctx: CliContext, client: CrtosClient | undefined): Promise<ExitKind> {
  if (!client) {
    ctx.stdout.write('crtosd is not reachable: it applies the edit when it next reads its unit files.\n');
    return 'ok';
  }
  const outcome = await client.reload();
  ctx.stdout.write(renderOutcome({ color: ctx.color }, outcome, 'applied'));
  return outcome.ok ? 'ok' : 'failed';
}
