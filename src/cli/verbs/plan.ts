/**
 * `crtosctl plan`: what a reload would do now (crtosd reads the unit files and plans against the
 * machine, applying nothing). Exit 1 when the files have errors.
 */
import type { CliContext, ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './plan.options.js';
import { withClient, writeJson } from '../daemon.js';
import { renderOutcome } from '../format/plan.js';

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  return withClient<ExitKind>(ctx, args, async (client) => {
    const outcome = await client.planReload();
    if (args.flags.has('json')) writeJson(ctx, outcome);
    else ctx.stdout.write(renderOutcome({ color: ctx.color }, outcome, 'planned'));
    return outcome.ok ? 'ok' : 'failed';
  });
}
