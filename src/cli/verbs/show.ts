/**
 * `crtosctl show [UNIT…]`: properties as KEY=VALUE lines, like systemctl show; without a unit,
 * the manager's. `--property` picks some, `--value` prints only the values. Timestamps print to
 * the microsecond the daemon keeps (`…Timestamp=Mon 2026-11-30 09:00:00.123456 UTC`, with their
 * `…TimestampMonotonic=` µs since boot as they are); `--timestamp` takes systemctl's styles.
 */
import type { CliContext, ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './show.options.js';
import { UsageError } from '../context.js';
import { withClient, writeJson } from '../daemon.js';
import { formatTimestamp } from '../format/text.js';

/** systemctl's --timestamp styles; crtosctl's default is us (systemctl's is pretty, to the second). */
export const TIMESTAMP_STYLES = ['us', 'us+utc', 'pretty', 'utc', 'unix'] as const;
export type TimestampStyle = (typeof TIMESTAMP_STYLES)[number];

/** A µs timestamp in one of the styles; '' for 0 (never), as systemctl shows it. */
export function formatTimestampAs(usec: number, style: TimestampStyle): string {
  if (!usec) return '';
  if (style === 'unix') return `@${Math.floor(usec / 1_000_000)}`;
  return formatTimestamp(usec, { micro: style === 'us' || style === 'us+utc', utc: style === 'utc' || style === 'us+utc' });
}

/** One property value as systemctl show prints it. */
export function formatValue(name: string, value: unknown, style: TimestampStyle = 'us'): string {
  if (name.endsWith('Timestamp') && typeof value === 'number') return formatTimestampAs(value, style);
  if (name === 'Job' && Array.isArray(value)) return Number(value[0]) > 0 ? `${value[0]} ${value[1]}` : '';
  if (name === 'LastError' && value && typeof value === 'object') {
    const p = value as Record<string, unknown>;
    return p.code ? `${String(p.code)}: ${String(p.message ?? '')}` : '';
  }
  if (name === 'LastLoadErrors' && Array.isArray(value)) return value.map((p: Record<string, unknown>) => `${String(p.code)}: ${String(p.message ?? '')}`).join('; ');
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(' ');
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}=${String(v)}`).join(' ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value ?? '');
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  const style = args.values.get('timestamp') ?? 'us';
  if (!(TIMESTAMP_STYLES as readonly string[]).includes(style)) throw new UsageError(`--timestamp takes ${TIMESTAMP_STYLES.join(', ')}, not '${style}'`);
  // As systemctl's: -p repeats (`-p A -p B`), each a comma-separated list.
  const wanted = args.valueLists.get('property')?.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  const pick = (props: Record<string, unknown>): Record<string, unknown> =>
    wanted ? Object.fromEntries(wanted.filter((k) => k in props).map((k) => [k, props[k]])) : props;

  return withClient<ExitKind>(ctx, args, async (client) => {
    const targets: (string | undefined)[] = args.positional.length ? args.positional : [undefined];
    const shown: Record<string, unknown>[] = [];
    let missing = false;
    for (const id of targets) {
      const props = await client.properties(id);
      if (!props) {
        ctx.stderr.write(`Unit ${id} could not be found.\n`);
        missing = true;
        continue;
      }
      shown.push(pick(props));
    }
    if (args.flags.has('json')) writeJson(ctx, args.positional.length ? shown : shown[0]);
    else {
      const blocks = shown.map((props) =>
        Object.entries(props)
          .map(([k, v]) => (args.flags.has('value') ? formatValue(k, v, style as TimestampStyle) : `${k}=${formatValue(k, v, style as TimestampStyle)}`))
          .join('\n'),
      );
      ctx.stdout.write(blocks.filter((b) => b !== '').map((b) => b + '\n').join('\n'));
    }
    return missing ? 'no-such-unit' : 'ok';
  });
}
