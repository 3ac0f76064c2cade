/**
 * `crtosctl kill UNIT… [--signal SIG] [--kill-whom main|all]`: systemctl kill, for the units that
 * run a process (loaders): SIGTERM to every process of the unit's group by default. What the
 * process does next is its restart policy's business, as with systemd. crtosd refuses units that
 * run no process (a cell: stop or restart it), saying so; a refused or unknown unit makes the
 * exit status 1, as systemctl's.
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './kill.options.js';
import { withClient } from '../daemon.js';
import { ProblemError } from '../../errors/problem.js';
import { renderProblems } from '../../errors/render.js';

/** `SIGTERM`, `TERM`, `term` or `15` to the signal's number; undefined for none Linux has. */
export function signalNumber(text: string, signals: Readonly<Record<string, number>>): number | undefined {
  if (/^[0-9]+$/.test(text)) return Object.values(signals).includes(Number(text)) ? Number(text) : undefined;
  const upper = text.toUpperCase();
  return signals[upper.startsWith('SIG') ? upper : `SIG${upper}`];
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  if (args.positional.length === 0) throw new UsageError('which unit? usage: crtosctl kill UNIT... [--signal SIG] [--kill-whom main|all]');
  const whom = args.values.get('kill-whom') ?? 'all';
  if (whom !== 'main' && whom !== 'all') throw new UsageError(`--kill-whom takes main or all, not '${whom}'`);
  const { constants } = await import('node:os');
  const signalText = args.values.get('signal') ?? 'SIGTERM';
  const signal = signalNumber(signalText, constants.signals);
  if (signal === undefined) throw new UsageError(`'${signalText}' is not a signal; \`kill -l\` lists them`);
  return withClient<ExitKind>(ctx, args, async (client) => {
    let failed = false;
    for (const id of args.positional) {
      try {
        await client.kill(id, whom, signal);
      } catch (e) {
        if (!(e instanceof ProblemError)) throw e;
        // As systemctl for an unknown unit; crtosd's refusal (a unit with no process) as it says it.
        if (e.problems[0]?.code === 'API_NO_SUCH_UNIT') ctx.stderr.write(`Failed to kill unit ${id}: Unit ${id} not loaded.\n`);
        else ctx.stderr.write(renderProblems(e.problems, { color: ctx.color }));
        failed = true;
      }
    }
    return failed ? 'failed' : 'ok';
  });
}
