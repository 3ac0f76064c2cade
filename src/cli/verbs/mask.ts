/**
 * `crtosctl mask [--runtime] UNIT…` and `unmask`: systemd's meaning. A masked unit is not started,
 * by crtosd or by `start`; one that runs keeps running until stopped. The mask is a symlink to
 * /dev/null named after the unit (src/engine/masks.ts), printed as systemctl prints it.
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './mask.options.js';
import { withClient, writeJson } from '../daemon.js';

export async function runMask(ctx: CliContext, unmask: boolean): Promise<ExitKind> {
  const verb = unmask ? 'unmask' : 'mask';
  const args = parseArgs(ctx.args, OPTIONS);
  if (args.positional.length === 0) throw new UsageError(`which unit? usage: crtosctl ${verb} [--runtime] UNIT...`);
  return withClient<ExitKind>(ctx, args, async (client) => {
    const changes = await client.mask(args.positional, args.flags.has('runtime'), unmask);
    if (args.flags.has('json')) writeJson(ctx, changes);
    else for (const c of changes) ctx.stdout.write(c.type === 'symlink' ? `Created symlink ${c.file} → ${c.destination}.\n` : `Removed "${c.file}".\n`);
    return 'ok';
  });
}

export function run(ctx: CliContext): Promise<ExitKind> {
  return runMask(ctx, false);
}
