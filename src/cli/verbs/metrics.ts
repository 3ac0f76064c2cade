/**
 * `crtosctl metrics`: crtosd's metrics in Prometheus's text format, exactly as its metrics file
 * (--metrics-file) holds them: the daemon renders both with one function. There is no `--json`:
 * the text format is already what the tools that read metrics take (promtool, node_exporter,
 * Prometheus itself), and a second shape of the same numbers would be a second thing to keep true.
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './metrics.options.js';
import { withClient } from '../daemon.js';

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  if (args.positional.length > 0) throw new UsageError(`takes no arguments, not '${args.positional[0]}'; usage: crtosctl metrics`);
  if (args.flags.has('json')) throw new UsageError('--json does not apply: the metrics are printed in Prometheus\'s text format, which promtool and node_exporter read');
  return withClient<ExitKind>(ctx, args, async (client) => {
    ctx.stdout.write(await client.metrics());
    return 'ok';
  });
}
