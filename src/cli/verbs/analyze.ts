/**
 * `crtosctl analyze plot|dot|critical-chain|blame`: systemd-analyze's views of a bring-up, from
 * the µs timestamps crtosd keeps per unit and per operation (read over D-Bus once, then rendered
 * by the pure functions of src/cli/analyze/).
 *
 *   plot > boot.svg                  every unit as a bar from activating to active, its operations inside
 *   dot [UNIT…] [--order|--require]  the dependency graph for Graphviz (`| dot -Tsvg > deps.svg`)
 *   critical-chain [UNIT…] [--fuzz]  the chain of units each one waited for
 *   blame                            units by activation time, slowest first
 *
 * `--json` prints the data itself (units' monotonic times and dependencies, operations).
 */
import { UsageError, type CliContext, type ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS, SUB_VERBS } from './analyze.options.js';
import { withClient, writeJson } from '../daemon.js';
import type { CrtosClient } from '../../dbus/client.js';
import type { UnitStatus } from '../../engine/manager-api.js';
import { originRealtimeOf, unitTimes, type BootData } from '../analyze/data.js';
import { renderPlot } from '../analyze/plot.js';
import { DOT_LEGEND, renderDot } from '../analyze/dot.js';
import { CHAIN_HEADER, lastActivated, renderCriticalChain } from '../analyze/critical-chain.js';
import { renderBlame } from '../analyze/blame.js';
import { parseSpan } from './logs-since.js';

/** `--fuzz`: a time span as systemd takes one (`100ms`, `1min 30s`; a bare number is seconds), in µs. */
export function parseFuzz(text: string): number {
  const usec = parseSpan(text);
  if (usec === undefined) throw new UsageError(`--fuzz takes a time span such as 100ms or 1s, not '${text}'`);
  return Math.round(usec);
}

async function readBootData(client: CrtosClient): Promise<{ data: BootData; statuses: UnitStatus[] }> {
  const [entries, operations] = await Promise.all([client.listUnits(), client.timeline()]);
  const statuses = (await Promise.all(entries.map((e) => client.unit(e.id)))).filter((s): s is UnitStatus => s !== undefined);
  const data: BootData = {
    units: statuses.map(unitTimes),
    operations,
    now: Number(process.hrtime.bigint() / 1000n),
    originRealtime: originRealtimeOf(statuses),
  };
  return { data, statuses };
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  const [sub, ...units] = args.positional;
  if (sub === undefined || !(SUB_VERBS as readonly string[]).includes(sub)) {
    throw new UsageError(sub === undefined ? `needs one of ${SUB_VERBS.join(', ')}` : `unknown analyze verb '${sub}'; use one of ${SUB_VERBS.join(', ')}`);
  }
  if (args.flags.has('order') && args.flags.has('require')) throw new UsageError('--order and --require exclude each other');
  const fuzz = args.values.has('fuzz') ? parseFuzz(args.values.get('fuzz') ?? '') : 0;
  return withClient<ExitKind>(ctx, args, async (client) => {
    const { data } = await readBootData(client);
    if (args.flags.has('json')) {
      writeJson(ctx, data);
      return 'ok';
    }
    switch (sub) {
      case 'plot':
        ctx.stdout.write(renderPlot(data));
        return 'ok';
      case 'dot':
        ctx.stdout.write(renderDot(data.units, args.flags.has('order') ? 'order' : args.flags.has('require') ? 'require' : 'all', units));
        // As systemd-analyze: the legend on stderr, the graph alone on stdout for a pipe into dot.
        ctx.stderr.write(DOT_LEGEND);
        return 'ok';
      case 'blame':
        ctx.stdout.write(renderBlame(data.units));
        return 'ok';
      default: {
        const known = new Set(data.units.map((u) => u.id));
        const missing = units.filter((u) => !known.has(u));
        for (const u of missing) ctx.stderr.write(`Unit ${u} could not be found.\n`);
        const last = lastActivated(data.units);
        const targets = units.length > 0 ? units.filter((u) => known.has(u)) : last === undefined ? [] : [last];
        if (targets.length > 0) ctx.stdout.write(CHAIN_HEADER + renderCriticalChain(data.units, targets, { color: ctx.color, utf8: ctx.utf8, fuzz }));
        else if (missing.length === 0) ctx.stderr.write('No unit has become active yet.\n');
        return missing.length > 0 ? 'no-such-unit' : 'ok';
      }
    }
  });
}
