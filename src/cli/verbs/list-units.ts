/**
 * `crtosctl list-units [PATTERN…]`: one line per unit with its load, active and sub state, like
 * systemctl list-units. Filters: glob patterns on the id, --state (any of load, active or sub
 * state; --failed is --state=failed), --kind; each option may repeat.
 */
import type { CliContext, ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './list-units.options.js';
import { kindOf, withClient, writeJson } from '../daemon.js';
import { paintState, stateGlyph, table, bold, byId } from '../format/text.js';
import type { UnitListEntry } from '../../dbus/client.js';
import { globToRegExp } from '../../lib/glob.js';

/** A filter's words: every value given (the option repeats, as systemctl's), each comma-separated; undefined for none. */
const list = (values: readonly string[] | undefined): string[] | undefined => {
  const words = (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean);
  return words.length > 0 ? words : undefined;
};

export function filterUnits(units: readonly UnitListEntry[], patterns: readonly string[], states?: string[], kinds?: string[]): UnitListEntry[] {
  const res = patterns.map(globToRegExp);
  return units.filter(
    (u) =>
      (res.length === 0 || res.some((r) => r.test(u.id))) &&
      (!states || states.some((s) => s === u.loadState || s === u.activeState || s === u.subState)) &&
      (!kinds || kinds.includes(kindOf(u.id))),
  );
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  return withClient<ExitKind>(ctx, args, async (client) => {
    const states = list([...(args.valueLists.get('state') ?? []), ...(args.flags.has('failed') ? ['failed'] : [])]);
    const units = filterUnits(await client.listUnits(), args.positional, states, list(args.valueLists.get('kind')));
    units.sort(byId);
    if (args.flags.has('json')) {
      writeJson(
        ctx,
        units.map((u) => ({ unit: u.id, kind: kindOf(u.id), load: u.loadState, active: u.activeState, sub: u.subState, job: u.jobType || null, description: u.description })),
      );
      return 'ok';
    }
    const style = { color: ctx.color };
    const legend = !args.flags.has('no-legend');
    const showJobs = units.some((u) => u.jobId > 0);
    const rows: string[][] = [];
    const glyphs = style.color && !args.flags.has('plain');
    const row = (cells: string[], glyph: string): string[] => (glyphs ? [glyph, ...cells] : cells);
    if (legend) rows.push(row(['UNIT', 'LOAD', 'ACTIVE', 'SUB', ...(showJobs ? ['JOB'] : []), 'DESCRIPTION'].map((h) => bold(style, h)), ' '));
    for (const u of units) {
      rows.push(
        row(
          [u.id, u.loadState, paintState(style, u.activeState, u.activeState), paintState(style, u.activeState, u.subState), ...(showJobs ? [u.jobType || ''] : []), u.description],
          stateGlyph(style, u.activeState),
        ),
      );
    }
    const out = table(rows);
    if (legend) {
      out.push(
        '',
        'LOAD   = whether the unit file was read and is valid',
        'ACTIVE = the overall state: active, inactive, failed, or on its way (activating, deactivating)',
        'SUB    = the kind-specific state (running, loaded, enabled, dead, …)',
        ...(showJobs ? ['JOB    = the queued or running job'] : []),
        '',
        `${units.length} unit${units.length === 1 ? '' : 's'} listed.`,
      );
    }
    ctx.stdout.write(out.join('\n') + '\n');
    return 'ok';
  });
}
