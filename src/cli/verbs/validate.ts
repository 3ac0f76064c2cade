/**
 * `crtosctl validate [--units DIR]... [--root DIR] [--json] [DIR|FILE]...`: load and check unit
 * files offline, without a daemon. Exit 0 with a one-line summary when the set is valid, 1 with
 * every problem (compiler style, or JSON with --json) when not, 2 on bad usage.
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { loadUnits, DEFAULT_UNIT_DIRECTORIES } from '../../units/load.js';
import { kindNames } from '../../kinds/index.js';
import type { UnitSet } from '../../units/types.js';
import { renderProblems, problemsToJson } from '../../errors/render.js';

const USAGE = `Usage: crtosctl validate [--units DIR]... [--root DIR] [--json] [DIR|FILE]...

Load the unit files and report every problem, without a daemon.

  --units DIR   Read units from DIR instead of ${DEFAULT_UNIT_DIRECTORIES.join(', ')}
                (repeatable, highest precedence first; a plain argument counts as --units)
  --root DIR    Also run the checks crtosd runs before it applies a set, against the
                machine under DIR (/ for this one): files units name exist, images have
                their pinned sha256, .cell files decode and every cell configuration fits
                the system configuration and the other cells. Without it, only inline
                cell configurations are checked, on their own
  --json        Print the result as JSON on stdout
`;

interface ValidateArgs {
  directories?: string[];
  root?: string;
  json: boolean;
  help: boolean;
}

export function parseValidateArgs(args: readonly string[]): ValidateArgs {
  const out: ValidateArgs = { json: false, help: false };
  const dirs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a directory`);
      return v;
    };
    switch (flag) {
      case '--units':
        dirs.push(value());
        break;
      case '--root':
        if (out.root !== undefined) throw new UsageError('--root given twice');
        out.root = value();
        break;
      case '--json':
        out.json = true;
        break;
      case '-h':
      case '--help':
        out.help = true;
        break;
      default:
        if (flag.startsWith('-')) throw new UsageError(`unknown option '${flag}'\n\n${USAGE}`);
        dirs.push(arg);
    }
  }
  if (dirs.length) out.directories = dirs;
  return out;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function summary(set: UnitSet, warnings: number): string {
  const counts = kindNames().map((kind) => [kind, [...set.units.values()].filter((u) => u.kind === kind).length] as const)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => plural(n, kind.toLowerCase()));
  const where = set.directories.join(', ');
  const warned = warnings ? `, ${plural(warnings, 'warning')}` : '';
  return `${plural(set.units.size, 'unit')} valid${counts.length ? ` (${counts.join(', ')})` : ''} in ${where}; ${plural(set.layers.length, 'start layer')}${warned}\n`;
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseValidateArgs(ctx.args);
  if (args.help) {
    ctx.stdout.write(USAGE);
    return 'ok';
  }
  const { resolve } = await import('node:path');
  const result = await loadUnits({ directories: args.directories, cwd: ctx.cwd, requireDirectories: args.directories !== undefined });
  if (result.set) {
    // The daemon's own check of a set before it applies it, against the machine under --root.
    const { checkTransaction, machineFilesUnder } = await import('../../transaction/check.js');
    const machine = args.root === undefined ? undefined : machineFilesUnder(resolve(ctx.cwd, args.root));
    const found = await checkTransaction({ set: result.set, sources: result.sources, machine });
    result.problems.push(...found);
    if (found.some((p) => (p.severity ?? 'error') === 'error')) delete result.set;
  }
  const errors = result.problems.filter((p) => (p.severity ?? 'error') === 'error').length;
  const warnings = result.problems.length - errors;

  if (args.json) {
    const set = result.set;
    const body = {
      valid: set !== undefined,
      directories: args.directories ?? DEFAULT_UNIT_DIRECTORIES,
      errors,
      warnings,
      problems: problemsToJson(result.problems),
      units: set ? [...set.units.values()].map((u) => ({ id: u.id, kind: u.kind, file: u.source.file, line: u.source.line, dropIns: u.source.dropIns })) : [],
      layers: set?.layers ?? [],
    };
    ctx.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return set ? 'ok' : 'failed';
  }

  ctx.stderr.write(renderProblems(result.problems, { color: ctx.color, sources: result.sources }));
  if (result.set) {
    ctx.stdout.write(summary(result.set, warnings));
    return 'ok';
  }
  ctx.stderr.write(`${plural(errors, 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}; the unit set is not valid\n`);
  return 'failed';
}
