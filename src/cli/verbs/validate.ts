/**
 * `crtosctl validate [--units DIR]... [--root DIR] [--facts FILE|DIR]... [--json] [DIR|FILE]...`:
 * load and check unit files offline, without a daemon. Exit 0 with a one-line summary when the set
 * is valid, 1 with every problem (compiler style, or JSON with --json) when not, 2 on bad usage.
 * With --facts, the one tree is checked for each machine (validate-fleet.ts).
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { loadUnits, DEFAULT_UNIT_DIRECTORIES } from '../../units/load.js';
import { kindNames } from '../../kinds/index.js';
import type { UnitSet } from '../../units/types.js';
import { renderProblems, problemsToJson } from '../../errors/render.js';
import { hasErrors, isError } from '../../errors/problem.js';
import { plural } from '../format/text.js';

const USAGE = `Usage: crtosctl validate [--units DIR]... [--root DIR] [--facts FILE|DIR]... [--json] [DIR|FILE]...

Load the unit files and report every problem, without a daemon.

  --units DIR   Read units from DIR instead of ${DEFAULT_UNIT_DIRECTORIES.join(', ')}
                (repeatable, highest precedence first; a plain argument counts as --units)
  --root DIR    Also run the checks crtosd runs before it applies a set, against the
                machine under DIR (/ for this one): files units name exist, images have
                their pinned sha256, .cell files decode and every cell configuration fits
                the system configuration and the other cells. Without it, only inline
                cell configurations are checked, on their own. The machine's facts
                (crtosctl facts --root DIR) decide conditions and expand specifiers
  --facts FILE|DIR
                Check the units for each machine a facts file describes (what
                \`crtosctl facts\` printed there; a directory: every *.yaml, *.yml
                and *.json in it):
                which units apply, and every check that applies there. --root then
                names the file tree shipped with the units, one for all machines.
                A pathExists condition is answered by the facts file's paths
                (crtosctl facts --path), else under --root; with neither it is
                taken as met, with a warning. Prints a table per machine; exit 1
                if any machine fails
  --json        Print the result as JSON on stdout
`;

interface ValidateArgs {
  directories?: string[];
  root?: string;
  facts: string[];
  json: boolean;
  help: boolean;
}

export function parseValidateArgs(args: readonly string[]): ValidateArgs {
  const out: ValidateArgs = { json: false, help: false, facts: [] };
  const dirs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a ${flag === '--facts' ? 'facts file or directory' : 'directory'}`);
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
      case '--facts':
        out.facts.push(value());
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
  let skipped: ReadonlyMap<string, { text: string }> = new Map();
  const result = await loadUnits({ directories: args.directories, cwd: ctx.cwd, requireDirectories: args.directories !== undefined });
  if (args.facts.length > 0) return (await import('./validate-fleet.js')).validateFleet(ctx, result, { ...args, directories: args.directories ?? DEFAULT_UNIT_DIRECTORIES });
  if (result.set) {
    // The daemon's own check of a set before it applies it, against the machine under --root,
    // whose facts (read there as crtosd reads its own) decide conditions and specifiers.
    const { machineFilesUnder } = await import('../../transaction/check.js');
    const { checkOnMachine } = await import('../../conditions/check-on-machine.js');
    const root = args.root === undefined ? undefined : resolve(ctx.cwd, args.root);
    const facts = root === undefined ? undefined : await (await import('../../facts/collect.js')).collectIdentity((await import('../../host/index.js')).createLinuxHost({ root }));
    const { machineSet, problems: found } = await checkOnMachine({ set: result.set, sources: result.sources, machine: root === undefined ? undefined : machineFilesUnder(root), facts });
    result.problems.push(...found);
    if (hasErrors(found)) delete result.set;
    else skipped = machineSet.skipped;
  }
  const errors = result.problems.filter(isError).length;
  const warnings = result.problems.length - errors;

  if (args.json) {
    const set = result.set;
    const body = {
      valid: set !== undefined,
      directories: args.directories ?? DEFAULT_UNIT_DIRECTORIES,
      errors,
      warnings,
      problems: problemsToJson(result.problems),
      units: set ? [...set.units.values()].map((u) => ({ id: u.id, kind: u.kind, file: u.source.file, line: u.source.line, dropIns: u.source.dropIns, ...(skipped.has(u.id) ? { skipped: skipped.get(u.id)!.text } : {}) })) : [],
      layers: set?.layers ?? [],
    };
    ctx.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return set ? 'ok' : 'failed';
  }

  ctx.stderr.write(renderProblems(result.problems, { color: ctx.color, sources: result.sources }));
  if (result.set) {
    ctx.stdout.write(summary(result.set, warnings));
    for (const [id, skip] of skipped) ctx.stdout.write(`  ${id}: ${skip.text}\n`);
    return 'ok';
  }
  ctx.stderr.write(`${plural(errors, 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}; the unit set is not valid\n`);
  return 'failed';
}
