/**
 * `crtosctl reload`: crtosd re-reads the unit files and applies them, or, when they have errors,
 * keeps running the last good set and reports the problems (exit 1).
 */
import type { CliContext, ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './reload.options.js';
import { withClient, writeJson } from '../daemon.js';
import { renderOutcome } from '../format/plan.js';

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  return withClient<ExitKind>(ctx, args, async (client) => {
    const outcome = await client.reload();
    if (args.flags.has('json')) writeJson(ctx, outcome);
    else ctx.stdout.write(renderOutcome({ color: ctx.color }, outcome, 'applied'));
    return outcome.ok ? 'ok' : 'failed';
  });
}
