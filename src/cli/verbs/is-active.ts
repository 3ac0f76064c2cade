/**
 * `crtosctl is-active UNIT…`: prints each unit's active state; exit as systemctl's (LSB): 0 when
 * any unit is active (or reloading), otherwise 4 when no unit is known at all, otherwise 3.
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './is-active.options.js';
import { withClient, writeJson } from '../daemon.js';

export function isActiveExit(states: readonly (string | undefined)[]): ExitKind {
  if (states.some((s) => s === 'active' || s === 'reloading')) return 'ok';
  if (states.every((s) => s === undefined)) return 'no-such-unit';
  return 'inactive';
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  if (args.positional.length === 0) throw new UsageError('which unit? usage: crtosctl is-active UNIT...');
  return withClient<ExitKind>(ctx, args, async (client) => {
    const known = new Map((await client.listUnits()).map((u) => [u.id, u.activeState]));
    const states = args.positional.map((id) => known.get(id));
    if (args.flags.has('json')) writeJson(ctx, args.positional.map((unit, i) => ({ unit, active: states[i] ?? 'unknown' })));
    else if (!args.flags.has('quiet')) ctx.stdout.write(states.map((s) => `${s ?? 'unknown'}\n`).join(''));
    return isActiveExit(states);
  });
}
