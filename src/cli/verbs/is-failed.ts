/**
 * `crtosctl is-failed [UNIT…]`: as systemctl's (systemd ≥ 253), prints each unit's active state
 * (`inactive` for a unit crtosd does not have) and exits 0 when any of them is failed, 4 when none
 * of them is known, 1 otherwise. Without a unit, as newer systemctl: the daemon's state, 0 when it
 * is degraded (some unit failed), else 1.
 */
import type { CliContext, ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './is-failed.options.js';
import { withClient, writeJson } from '../daemon.js';
import { checkExit, printActiveStates } from './is-active.js';

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  return withClient<ExitKind>(ctx, args, async (client) => {
    if (args.positional.length > 0) return checkExit(await printActiveStates(ctx, args, client), ['failed'], 'failed');
    const { systemState } = await client.daemon();
    if (args.flags.has('json')) writeJson(ctx, { systemState });
    else if (!args.flags.has('quiet')) ctx.stdout.write(`${systemState}\n`);
    return systemState === 'degraded' ? 'ok' : 'failed';
  });
}
