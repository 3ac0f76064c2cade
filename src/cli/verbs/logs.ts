/**
 * `crtosctl logs [UNIT…] [-f] [-n N] [--since TIME] [--json]`: crtosd's lines about the units and
 * their loaders' own output (the per-unit log the daemon keeps, which survives a crtosd restart),
 * with no unit every unit's and the daemon-wide lines, in time order (GetLog). journalctl has the
 * whole history when crtosd logs to the journal (`journalctl CRTOS_UNIT=nuttx.cell`); this is the
 * view that needs no journal.
 *
 * Following polls GetLog with the time of the last line printed rather than subscribing to a
 * signal: a crtosd that restarts (or a bus that comes back) is simply asked again, and the units'
 * lines it kept across the restart are not printed twice. Exit: 0, 4 for a unit not loaded, 1 when
 * crtosd does not answer (at the start; while following, it is waited for).
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { parseArgs, type ParsedArgs } from '../options.js';
import { OPTIONS } from './logs.options.js';
import { writeJson } from '../daemon.js';
import { CrtosClient } from '../../dbus/client.js';
import type { LogLine } from '../../engine/manager-api.js';
import { formatLogTime, red, yellow, type Style } from '../format/text.js';
import { parseSince } from './logs-since.js';

/** How often a follower asks for new lines. */
const FOLLOW_POLL_MS = 250;
const DEFAULT_FOLLOW_LINES = 10;

export function renderLogLine(style: Style, l: LogLine): string {
  const text = `${formatLogTime(l.time)} ${l.unit ?? 'crtosd'}: ${l.message}`;
  return l.level === 'error' ? red(style, text) : l.level === 'warn' ? yellow(style, text) : text;
}

const lineKey = (l: LogLine): string => `${l.unit ?? ''}\0${l.level}\0${l.message}`;

/**
 * What a follower has printed at its last time, to skip those lines when it asks again from that
 * time: per distinct line, how many of them. A unit's lines keep their order, so of equal lines at
 * that time the first ones are those already printed.
 */
export class FollowCursor {
  private time = 0;
  private seen = new Map<string, number>();

  /** Asks from here. */
  get since(): number {
    return this.time;
  }

  /** Of the lines GetLog answered from `since`, those not printed yet; remembers them as printed. */
  fresh(lines: readonly LogLine[]): LogLine[] {
    const skip = new Map(this.seen);
    const out: LogLine[] = [];
    for (const l of lines) {
      if (l.time < this.time) continue;
      if (l.time === this.time) {
        const n = skip.get(lineKey(l)) ?? 0;
        if (n > 0) {
          skip.set(lineKey(l), n - 1);
          continue;
        }
      }
      out.push(l);
    }
    for (const l of out) {
      if (l.time > this.time) {
        this.time = l.time;
        this.seen = new Map();
      }
      if (l.time === this.time) this.seen.set(lineKey(l), (this.seen.get(lineKey(l)) ?? 0) + 1);
    }
    return out;
  }
}

function lineCount(args: ParsedArgs): number {
  const n = args.values.get('lines');
  if (n === undefined) return args.flags.has('follow') ? DEFAULT_FOLLOW_LINES : 0;
  if (!/^\d+$/.test(n)) throw new UsageError(`--lines needs a whole number, not '${n}'`);
  return Number(n);
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  const lines = lineCount(args);
  const sinceText = args.values.get('since');
  const since = sinceText === undefined ? 0 : parseSince(sinceText, Date.now());
  if (since === undefined) throw new UsageError(`--since: cannot read '${sinceText}' as a time; write e.g. '2026-01-31 12:00:00', '-5min' or 'today'`);
  const units = args.positional;
  const json = args.flags.has('json');
  const style: Style = { color: ctx.color };
  const print = (ls: readonly LogLine[]) => {
    for (const l of ls) ctx.stdout.write(json ? `${JSON.stringify(l)}\n` : `${renderLogLine(style, l)}\n`);
  };

  let client = await CrtosClient.connect(args.values.get('bus'), ctx.env);
  const cursor = new FollowCursor();
  try {
    const missing: string[] = [];
    for (const id of units) if (!(await client.unitPath(id))) missing.push(id);
    if (missing.length) {
      for (const id of missing) ctx.stderr.write(`Unit ${id} not found.\n`);
      return 'no-such-unit';
    }
    const first = cursor.fresh(await client.log(units, since, lines));
    if (!args.flags.has('follow')) {
      if (json) writeJson(ctx, first);
      else print(first);
      return 'ok';
    }
    print(first);
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    ctx.stdout.once('error', stop); // a closed pipe (`| head`)
    let waiting = false;
    try {
      for (;;) {
        const tick = new Promise<'tick'>((resolve) => setTimeout(() => resolve('tick'), FOLLOW_POLL_MS));
        if ((await Promise.race([stopped.then(() => 'stop' as const), tick])) === 'stop') return 'ok';
        try {
          print(cursor.fresh(await client.log(units, Math.max(since, cursor.since), 0)));
          if (waiting) ctx.stderr.write('crtosd answers again.\n');
          waiting = false;
        } catch (e) {
          if (!waiting) ctx.stderr.write(`crtosd does not answer (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); waiting for it.\n`);
          waiting = true;
          // The bus itself may have gone: the next look is through a new connection.
          client.close();
          client = await CrtosClient.connect(args.values.get('bus'), ctx.env);
        }
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  } finally {
    client.close();
  }
}
