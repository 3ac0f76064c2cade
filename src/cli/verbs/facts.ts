/**
 * `crtosctl facts [--root DIR] [--path PATH]... [--json]`: what crtosd knows of a machine
 * (src/facts), read through the Host under DIR, and whether each PATH exists there. The YAML it
 * prints is a facts file: `crtosctl validate --facts` reads it. Needs no daemon: the facts are
 * the machine's files, which crtosd reads the same way at start.
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './facts.options.js';
import { createLinuxHost } from '../../host/index.js';
import { collectFacts } from '../../facts/collect.js';
import { factsJson, factsYaml } from '../../facts/render.js';

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  if (args.positional.length > 0) throw new UsageError(`takes no arguments, not '${args.positional[0]}'; usage: crtosctl facts [--root DIR] [--path PATH]... [--json]`);
  const paths = args.valueLists.get('path') ?? [];
  const relative = paths.find((p) => !p.startsWith('/'));
  if (relative !== undefined) throw new UsageError(`--path takes a machine path, which is absolute, not '${relative}'`);
  const { resolve } = await import('node:path');
  const root = resolve(ctx.cwd, args.values.get('root') ?? '/');
  const facts = await collectFacts(createLinuxHost({ root }), paths);
  ctx.stdout.write(args.flags.has('json') ? factsJson(facts) : factsYaml(facts));
  return 'ok';
}
