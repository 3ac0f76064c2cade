/**
 * `crtosctl list-jobs [PATTERN…]`: the jobs queued or running, as systemctl list-jobs prints them
 * (JOB UNIT TYPE STATE); "No jobs running." when there are none.
 */
import type { CliContext, ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './list-jobs.options.js';
import { withClient, writeJson } from '../daemon.js';
import { bold, table } from '../format/text.js';
import { globToRegExp } from '../../lib/glob.js';

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  const patterns = args.positional.map(globToRegExp);
  return withClient<ExitKind>(ctx, args, async (client) => {
    const jobs = (await client.listJobs()).filter((j) => patterns.length === 0 || patterns.some((p) => p.test(j.unit))).sort((a, b) => a.id - b.id);
    if (args.flags.has('json')) {
      writeJson(ctx, jobs);
      return 'ok';
    }
    const legend = !args.flags.has('no-legend');
    if (jobs.length === 0) {
      if (legend) ctx.stdout.write('No jobs running.\n');
      return 'ok';
    }
    const style = { color: ctx.color };
    const rows = [...(legend ? [['JOB', 'UNIT', 'TYPE', 'STATE'].map((h) => bold(style, h))] : []), ...jobs.map((j) => [String(j.id), j.unit, j.type, j.state])];
    const out = table(rows);
    if (legend) out.push('', `${jobs.length} job${jobs.length === 1 ? '' : 's'} listed.`);
    ctx.stdout.write(out.join('\n') + '\n');
    return 'ok';
  });
}
