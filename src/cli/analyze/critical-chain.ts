/**
 * `crtosctl analyze critical-chain [UNIT…]`: the chain of units each one waited for, as
 * systemd-analyze critical-chain finds and prints it. From a unit, among the units it is ordered
 * after (After, which includes what it requires and references), the one that became active last
 * is followed (with `fuzz`, every one within that much of it), down to units that waited for none.
 * `@` is when the unit became active, from the start of the bring-up; `+` how long it took to
 * start, red on a terminal. A unit seen before in the tree is cut short with `...`. The tree is
 * drawn in box-drawing glyphs when the locale is UTF-8 (opts.utf8), else in ASCII, colour or not.
 *
 * Without a unit, the chain of the unit that became active last: the end of the bring-up.
 */
import type { UnitTimes } from './data.js';
import { originOf } from './data.js';
import { formatTimespan } from './timespan.js';
import { red, treeGlyphs, type Style } from '../format/text.js';

export const CHAIN_HEADER = 'The time when unit became active or started is printed after the "@" character.\nThe time the unit took to start is printed after the "+" character.\n\n';

export interface ChainOptions extends Style {
  /** µs: units that became active within this much of the latest are followed too. */
  fuzz?: number;
}

/** The unit the bring-up ended with: active last (ties by id). */
export function lastActivated(units: readonly UnitTimes[]): string | undefined {
  return [...units].filter((u) => u.activated > 0).sort((a, b) => b.activated - a.activated || (a.id < b.id ? -1 : 1))[0]?.id;
}

export function renderCriticalChain(units: readonly UnitTimes[], targets: readonly string[], opts: ChainOptions): string {
  const byId = new Map(units.map((u) => [u.id, u]));
  const origin = originOf(units);
  const fuzz = opts.fuzz ?? 0;
  const glyph = treeGlyphs(opts);
  const out: string[] = [];
  const inRange = (u: UnitTimes | undefined): u is UnitTimes => u !== undefined && u.activated > 0 && u.activated >= origin;
  const since = (t: number) => formatTimespan(t - origin);
  const describe = (id: string, u: UnitTimes | undefined): string => {
    if (u && u.time > 0) return red(opts, `${id} @${since(u.activated)} +${formatTimespan(u.time)}`);
    if (u && u.activated > origin) return `${id} @${since(u.activated)}`;
    return id;
  };
  const line = (text: string, level: number, branches: number, last: boolean) => {
    let prefix = '';
    for (let i = level; i > 0; i--) prefix += branches & (1 << (i - 1)) ? glyph.vertical : glyph.space;
    out.push(`${prefix}${last ? glyph.right : glyph.branch}${text}\n`);
  };
  const seen = new Set<string>();
  const follow = (id: string, level: number, branches: number) => {
    seen.add(id);
    const deps = (byId.get(id)?.after ?? []).map((d) => byId.get(d)).filter(inRange);
    if (deps.length === 0) return;
    const latest = Math.max(...deps.map((d) => d.activated));
    const shown = deps.filter((d) => latest - d.activated <= fuzz).sort((a, b) => b.activated - a.activated || (a.id < b.id ? -1 : 1));
    shown.forEach((d, i) => {
      const last = i === shown.length - 1;
      const next = (branches << 1) | (last ? 0 : 1);
      line(describe(d.id, d), level, branches, last);
      if (seen.has(d.id)) line('...', level + 1, next, true);
      else follow(d.id, level + 1, next);
    });
  };
  for (const id of targets) {
    const u = byId.get(id);
    if (u && u.time > 0) out.push(`${red(opts, `${id} +${formatTimespan(u.time)}`)}\n`);
    else out.push(`${describe(id, u)}\n`);
    follow(id, 0, 0);
  }
  return out.join('');
}
