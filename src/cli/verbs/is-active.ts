/**
 * `crtosctl is-active UNIT…`: prints each unit's active state (`inactive` for a unit crtosd does
 * not have, as systemctl prints it); exit as systemctl's (LSB, systemd ≥ 253): 0 when any unit is
 * active (or reloading), otherwise 4 when none of the units is known, otherwise 3.
 * `is-failed` (./is-failed.ts) is the same check with other good states and exit codes.
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { parseArgs, type ParsedArgs } from '../options.js';
import { OPTIONS } from './is-active.options.js';
import { withClient, writeJson } from '../daemon.js';
import type { CrtosClient } from '../../dbus/client.js';

/**
 * systemctl's check (check_unit_generic): 'ok' when a unit is in one of `good`; else
 * 'no-such-unit' when every unit is unknown (undefined); else `otherwise`.
 */
export function checkExit(states: readonly (string | undefined)[], good: readonly string[], otherwise: ExitKind): ExitKind {
  if (states.some((s) => s !== undefined && good.includes(s))) return 'ok';
  if (states.every((s) => s === undefined)) return 'no-such-unit';
  return otherwise;
}

export const isActiveExit = (states: readonly (string | undefined)[]): ExitKind => checkExit(states, ['active', 'reloading'], 'inactive');

/** Prints the units' active states (`--json`: with their load state) and returns them, undefined for an unknown unit. */
export async function printActiveStates(ctx: CliContext, args: ParsedArgs, client: CrtosClient): Promise<(string | undefined)[]> {
  const known = new Map((await client.listUnits()).map((u) => [u.id, u.activeState]));
  const states = args.positional.map((id) => known.get(id));
  if (args.flags.has('json')) writeJson(ctx, args.positional.map((unit, i) => ({ unit, load: states[i] === undefined ? 'not-found' : 'loaded', active: states[i] ?? 'inactive' })));
  else if (!args.flags.has('quiet')) ctx.stdout.write(states.map((s) => `${s ?? 'inactive'}\n`).join(''));
  return states;
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  if (args.positional.length === 0) throw new UsageError('which unit? usage: crtosctl is-active UNIT...');
  return withClient<ExitKind>(ctx, args, async (client) => isActiveExit(await printActiveStates(ctx, args, client)));
}
