/**
 * `crtosctl is-failed [UNIT…]`: as systemctl's, prints each unit's active state (an unknown unit
 * is `inactive`) and exits 0 when any of them is failed, 1 otherwise. Without a unit, as newer
 * systemctl: the daemon's state, 0 when it is degraded (some unit failed).
 */
import type { CliContext, ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './is-failed.options.js';
import { withClient, writeJson } from '../daemon.js';

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  const quiet = args.flags.has('quiet');
  return withClient<ExitKind>(ctx, args, async (client) => {
    if (args.positional.length === 0) {
      const { systemState } = await client.daemon();
      if (args.flags.has('json')) writeJson(ctx, { systemState });
      else if (!quiet) ctx.stdout.write(`${systemState}\n`);
      return systemState === 'degraded' ? 'ok' : 'failed';
    }
    const known = new Map((await client.listUnits()).map((u) => [u.id, u.activeState]));
    const states = args.positional.map((id) => known.get(id) ?? 'inactive');
    if (args.flags.has('json')) writeJson(ctx, args.positional.map((unit, i) => ({ unit, active: states[i] })));
    else if (!quiet) ctx.stdout.write(states.map((s) => `${s}\n`).join(''));
    return states.includes('failed') ? 'ok' : 'failed';
  });
}
