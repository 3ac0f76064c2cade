/**
 * start, stop and restart share one flow, as systemctl's: check every unit exists, queue all
 * jobs (the JobRemoved match is installed first), wait for each to end, report each result.
 * Exit as systemctl's (LSB's init-script codes): 0 when every job is done, 1 when one failed, 5 when
 * a unit is unknown (nothing queued), 4 when crtosd refuses the caller (not root nor in its group).
 */
import type { CliContext, ExitKind } from './context.js';
import { UsageError } from './context.js';
import { parseArgs } from './options.js';
import { OPTIONS } from './jobs.options.js';
import { withClient, writeJson } from './daemon.js';
import type { JobType } from '../engine/manager-api.js';
import type { CrtosClient } from '../dbus/client.js';
import { isProblemError } from '../errors/problem.js';
import { renderProblems } from '../errors/render.js';

const RESULT_WHY: Record<string, string> = {
  failed: 'failed',
  dependency: 'failed because a unit it requires failed',
  timeout: 'timed out',
  canceled: 'was canceled',
  skipped: 'was skipped (it did not apply to the unit in its state)',
};

export async function runJobVerb(ctx: CliContext, type: JobType): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  if (args.positional.length === 0) throw new UsageError(`which unit? usage: crtosctl ${type} UNIT...`);
  const timeoutArg = args.values.get('timeout');
  if (timeoutArg !== undefined && !/^[0-9]+(\.[0-9]+)?$/.test(timeoutArg)) throw new UsageError(`--timeout needs seconds, not '${timeoutArg}'`);
  const timeoutMs = timeoutArg === undefined ? undefined : Number(timeoutArg) * 1000;
  const json = args.flags.has('json');

  return withClient<ExitKind>(ctx, args, async (client) => {
    const missing: string[] = [];
    for (const id of args.positional) if (!(await client.unitPath(id))) missing.push(id);
    if (missing.length) {
      for (const id of missing) ctx.stderr.write(`Unit ${id} not found; nothing was ${type === 'stop' ? 'stopped' : 'started'}.\n`);
      return 'not-installed';
    }
    try {
      return await queueAndWait(ctx, client, type, args.positional, timeoutMs, args.flags.has('no-block'), json);
    } catch (e) {
      if (!isProblemError(e) || !e.problems.some((p) => p.code === 'API_ACCESS_DENIED')) throw e;
      ctx.stderr.write(renderProblems(e.problems, { color: ctx.color }));
      return 'no-permission';
    }
  });
}

/** Queues the jobs; unless noBlock, waits for them and reports each that did not end done. */
async function queueAndWait(ctx: CliContext, client: CrtosClient, type: JobType, units: readonly string[], timeoutMs: number | undefined, noBlock: boolean, json: boolean): Promise<ExitKind> {
  if (noBlock) {
    const queued = [];
    for (const unit of units) queued.push({ unit, type, job: await client.enqueue(unit, type) });
    if (json) writeJson(ctx, queued);
    else for (const q of queued) ctx.stdout.write(`Queued ${type} of ${q.unit} as ${q.job}\n`);
    return 'ok';
  }
  const outcomes = await client.runJobs(
    units.map((unit) => ({ unit, type })),
    timeoutMs,
  );
  if (json) writeJson(ctx, outcomes);
  for (const o of outcomes) {
    if (o.result === 'done') continue;
    ctx.stderr.write(`Job for ${o.unit} ${RESULT_WHY[o.result] ?? o.result} (result: ${o.result}).\nSee "crtosctl status ${o.unit}" for details.\n`);
  }
  return outcomes.every((o) => o.result === 'done') ? 'ok' : 'failed';
}
