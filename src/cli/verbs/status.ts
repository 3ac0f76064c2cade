/**
 * `crtosctl status [UNIT…]`: without units, the daemon, the hypervisor and every unit with its
 * glyph; with units, systemctl's per-unit layout and the unit's recent log lines. Exit status as
 * systemctl's: 0 all active, 3 some not active, 4 some unit unknown.
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './status.options.js';
import { withClient, writeJson } from '../daemon.js';
import { renderOverview, renderUnitStatus } from '../format/status.js';
import type { LogLine, UnitStatus } from '../../engine/manager-api.js';
import { isProblemError } from '../../errors/problem.js';

const LOGS_HIDDEN_HINT = `Hint: You are currently not seeing the units' log lines.
      Users in the groups 'adm', 'systemd-journal' and crtosd's admin group can see them.
`;

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  const linesArg = args.values.get('lines') ?? '10';
  if (!/^[0-9]+$/.test(linesArg)) throw new UsageError(`--lines needs a number, not '${linesArg}'`);
  const lines = Number(linesArg);
  const style = { color: ctx.color, utf8: ctx.utf8 };
  const json = args.flags.has('json');

  return withClient<ExitKind>(ctx, args, async (client) => {
    if (args.positional.length === 0) {
      const [daemon, units] = await Promise.all([client.daemon(), client.listUnits()]);
      if (json) writeJson(ctx, { daemon, units });
      else ctx.stdout.write(renderOverview(style, daemon, units, Date.now()));
      return 'ok';
    }
    const found: { unit: UnitStatus; log: LogLine[] }[] = [];
    let missing = false;
    let logsRefused = false;
    // A unit's status shows without its log lines when those are not the caller's to read (as
    // systemctl status shows no journal lines to a user outside adm and systemd-journal).
    const logOf = (id: string): Promise<LogLine[]> =>
      client.unitLog(id, lines).catch((e: unknown) => {
        if (isProblemError(e) && e.problems.some((p) => p.code === 'API_ACCESS_DENIED')) logsRefused = true;
        return [];
      });
    // All units and their logs at once: the answers arrive in one round trip.
    const answers = await Promise.all(
      args.positional.map(async (id) => {
        const [unit, log] = await Promise.all([client.unit(id), lines > 0 ? logOf(id) : []]);
        return { id, unit, log };
      }),
    );
    for (const { id, unit, log } of answers) {
      if (!unit) {
        ctx.stderr.write(`Unit ${id} could not be found.\n`);
        missing = true;
        continue;
      }
      found.push({ unit, log });
    }
    if (json) writeJson(ctx, found.map(({ unit, log }) => ({ ...unit, log })));
    else ctx.stdout.write(found.map(({ unit, log }) => renderUnitStatus(style, unit, log, Date.now())).join('\n'));
    if (logsRefused && found.length > 0) ctx.stderr.write(LOGS_HIDDEN_HINT);
    if (missing) return 'no-such-unit';
    return found.every(({ unit }) => unit.activeState === 'active' || unit.activeState === 'reloading') ? 'ok' : 'inactive';
  });
}
