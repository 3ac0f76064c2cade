/**
 * `crtosctl reset-failed [UNIT…]`: systemctl's reset-failed. A failed unit becomes inactive (and
 * stays down until started); each unit's start-limit counter, restart count and health counts
 * start afresh. A unit that is not failed is fine. Without a unit, every unit. As systemctl, an
 * unknown unit is reported ("not loaded") and makes the exit status 1; the others are still reset.
 */
import type { CliContext, ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './reset-failed.options.js';
import { withClient } from '../daemon.js';
import { ProblemError } from '../../errors/problem.js';

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  return withClient<ExitKind>(ctx, args, async (client) => {
    if (args.positional.length === 0) {
      await client.resetFailed();
      return 'ok';
    }
    let failed = false;
    for (const id of args.positional) {
      try {
        await client.resetFailed(id);
      } catch (e) {
        if (!(e instanceof ProblemError) || e.problems[0]?.code !== 'API_NO_SUCH_UNIT') throw e;
        ctx.stderr.write(`Failed to reset failed state of unit ${id}: Unit ${id} not loaded.\n`);
        failed = true;
      }
    }
    return failed ? 'failed' : 'ok';
  });
}
