/**
 * `crtosctl validate --units DIR --facts FILE|DIR… [--root FILES] [--json]`: the one unit tree
 * for each machine a facts file describes (src/conditions/fleet.ts), a table per machine (units
 * applied and skipped, errors, warnings), then every problem under the machine it concerns.
 * Exit 1 if the tree or a facts file is wrong, or any machine fails.
 */
import { resolve } from 'node:path';
import type { CliContext, ExitKind } from '../context.js';
import type { LoadResult } from '../../units/load.js';
import { isError } from '../../errors/problem.js';
import { renderProblems, problemsToJson } from '../../errors/render.js';
import { readFactsFiles } from '../../facts/parse.js';
import { checkFleet, type MachineResult } from '../../conditions/fleet.js';
import { machineFilesUnder } from '../../transaction/check.js';
import { plural, table } from '../format/text.js';

export async function validateFleet(ctx: CliContext, loaded: LoadResult, args: { directories: string[]; root?: string; facts: string[]; json: boolean }): Promise<ExitKind> {
  const read = await readFactsFiles(args.facts, ctx.cwd);
  const files = args.root === undefined ? undefined : machineFilesUnder(resolve(ctx.cwd, args.root));
  const results = loaded.set ? await checkFleet(loaded.set, loaded.sources, read.files, files) : [];
  // The tree's own problems and the facts files' come first: they concern no one machine.
  const common = [...loaded.problems, ...read.problems];
  const failed = common.some(isError) || results.some((r) => r.problems.some(isError));
  const name = (r: MachineResult) => r.machine.facts.hostname;

  if (args.json) {
    const body = {
      valid: !failed,
      directories: args.directories,
      problems: problemsToJson(common),
      machines: results.map((r) => ({
        machine: name(r),
        factsFile: r.machine.file,
        valid: !r.problems.some(isError),
        applied: r.applied,
        skipped: [...r.skipped].map(([id, s]) => ({ id, reason: s.text })),
        errors: r.problems.filter(isError).length,
        warnings: r.problems.filter((p) => !isError(p)).length,
        problems: problemsToJson(r.problems),
      })),
    };
    ctx.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return failed ? 'failed' : 'ok';
  }

  ctx.stderr.write(renderProblems(common, { color: ctx.color, sources: loaded.sources }));
  if (results.length > 0) {
    const rows = [['MACHINE', 'FACTS', 'APPLIED', 'SKIPPED', 'ERRORS', 'WARNINGS']];
    for (const r of results) {
      const errors = r.problems.filter(isError).length;
      rows.push([name(r), r.machine.file, String(r.applied.length), String(r.skipped.size), String(errors), String(r.problems.length - errors)]);
    }
    ctx.stdout.write(`${table(rows, 2).join('\n')}\n`);
  }
  for (const r of results) {
    if (r.problems.length === 0) continue;
    const errors = r.problems.filter(isError).length;
    const warnings = r.problems.length - errors;
    ctx.stderr.write(`\n${name(r)} (${r.machine.file}): ${plural(errors, 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}\n`);
    ctx.stderr.write(renderProblems(r.problems, { color: ctx.color, sources: loaded.sources }));
  }
  const bad = results.filter((r) => r.problems.some(isError)).map(name);
  const inFiles = `${plural(common.filter(isError).length, 'error')} in the unit or facts files`;
  if (failed) ctx.stderr.write(`\n${bad.length ? `not valid on ${bad.join(', ')}${common.some(isError) ? `; ${inFiles}` : ''}` : `not valid: ${inFiles}`}\n`);
  else ctx.stdout.write(`valid on ${plural(results.length, 'machine')}\n`);
  return failed ? 'failed' : 'ok';
}
