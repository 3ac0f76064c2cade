/**
 * Terminal presentation shared by the verbs: glyphs and colours (only when ctx.color), systemd's
 * timestamp and time-span style, aligned tables. Pure functions of their inputs.
 */
const ESC = '\x1b[';

export interface Style {
  color: boolean;
  /** The locale shows UTF-8 (localeIsUtf8): trees are drawn with box-drawing glyphs, else in ASCII. */
  utf8?: boolean;
}

const SYSTEMD_BOOLEANS: Readonly<Record<string, boolean>> = { 1: true, yes: true, y: true, true: true, t: true, on: true, 0: false, no: false, n: false, false: false, f: false, off: false };

/**
 * Whether the locale can show UTF-8, decided as systemd decides it before it draws a tree
 * (is_locale_utf8 in its locale-util.c), whatever the colour: $SYSTEMD_UTF8 when it is a boolean;
 * else the character-type locale in force (the first set of $LC_ALL, $LC_CTYPE, $LANG, as the C
 * library takes them) is UTF-8 when it names that codeset, and also when none is set (systemd
 * assumes UTF-8 then); an explicit C or POSIX, or another codeset, is not.
 */
export function localeIsUtf8(env: NodeJS.ProcessEnv): boolean {
  const forced = SYSTEMD_BOOLEANS[(env.SYSTEMD_UTF8 ?? '').toLowerCase()];
  if (forced !== undefined) return forced;
  const locale = [env.LC_ALL, env.LC_CTYPE, env.LANG].find((v) => v !== undefined && v !== '');
  return locale === undefined || /\.utf-?8(@|$)/i.test(locale);
}

/** The branches of a tree (list-dependencies, critical-chain, status's drop-ins): systemd's glyphs, or its ASCII ones. */
export interface TreeGlyphs {
  vertical: string;
  space: string;
  branch: string;
  right: string;
}

const TREE_GLYPHS: Readonly<Record<'utf8' | 'ascii', TreeGlyphs>> = {
  utf8: { vertical: '│ ', space: '  ', branch: '├─', right: '└─' },
  ascii: { vertical: '| ', space: '  ', branch: '|-', right: '`-' },
};

export const treeGlyphs = (style: Pick<Style, 'utf8'>): TreeGlyphs => TREE_GLYPHS[style.utf8 ? 'utf8' : 'ascii'];

export const paint = (style: Style, code: string, text: string): string => (style.color && text ? `${ESC}${code}m${text}${ESC}0m` : text);
export const bold = (s: Style, t: string): string => paint(s, '1', t);
export const red = (s: Style, t: string): string => paint(s, '1;31', t);
export const green = (s: Style, t: string): string => paint(s, '1;32', t);
export const yellow = (s: Style, t: string): string => paint(s, '1;33', t);
export const grey = (s: Style, t: string): string => paint(s, '2', t);

/**
 * The state glyph systemctl puts before a unit (unit-def.c's map), in colour on a terminal. Off a
 * terminal there are no glyphs: ASCII stand-ins keep the column greppable.
 */
export function stateGlyph(style: Style, activeState: string): string {
  switch (activeState) {
    case 'active':
      return style.color ? green(style, '●') : '*';
    case 'activating':
    case 'deactivating':
      return style.color ? '●' : '*';
    case 'reloading':
      return style.color ? green(style, '↻') : '*';
    case 'failed':
      return style.color ? red(style, '×') : 'x';
    default:
      return style.color ? '○' : 'o';
  }
}

/** `active (running)` coloured the way systemctl colours it. */
export function paintState(style: Style, activeState: string, text: string): string {
  if (activeState === 'active' || activeState === 'reloading') return green(style, text);
  if (activeState === 'failed') return red(style, text);
  return text;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The zone as `UTC` or a numeric offset (`+0100`). Intl would give names like CET, but loading
 * ICU costs crtosctl more start-up time than the whole D-Bus round trip.
 */
function zoneName(d: Date): string {
  const offset = -d.getTimezoneOffset();
  if (offset === 0) return 'UTC';
  const abs = Math.abs(offset);
  return `${offset > 0 ? '+' : '-'}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
}

/**
 * `Sun 2026-11-22 15:47:00 UTC` (local time), as systemd prints timestamps; '' for 0. `micro`
 * adds the microseconds (`15:47:00.123456`, systemctl's --timestamp=us), `utc` prints UTC
 * whatever the local zone (--timestamp=utc, us+utc).
 */
export function formatTimestamp(usec: number, o: { micro?: boolean; utc?: boolean } = {}): string {
  if (!usec) return '';
  const d = new Date(Math.floor(usec / 1000));
  const zone = o.utc ? 'UTC' : zoneName(d);
  const [day, year, month, date, hours, minutes, seconds] = o.utc
    ? [d.getUTCDay(), d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getDay(), d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  const fraction = o.micro ? `.${String(Math.floor(usec) % 1_000_000).padStart(6, '0')}` : '';
  return `${WEEKDAYS[day]} ${year}-${pad2(month + 1)}-${pad2(date)} ${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}${fraction}${zone ? ` ${zone}` : ''}`;
}

/** `Nov 22 15:47:00`, the journal's short prefix. */
export function formatLogTime(usec: number): string {
  const d = new Date(Math.floor(usec / 1000));
  return `${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A duration the way systemd writes one: the two largest units, `3min 5s`, `2 days 4h`. */
export function formatSpan(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const units: [number, string, string][] = [
    [7 * 86_400_000, ' week', ' weeks'],
    [86_400_000, ' day', ' days'],
    [3_600_000, 'h', 'h'],
    [60_000, 'min', 'min'],
    [1000, 's', 's'],
  ];
  const word = (n: number, one: string, many: string): string => `${n}${n === 1 ? one : many}`;
  const parts: string[] = [];
  for (let i = 0; i < units.length; i++) {
    const [size, one, many] = units[i] ?? [1, '', ''];
    const n = Math.floor(ms / size);
    if (n === 0) continue;
    parts.push(word(n, one, many));
    const next = units[i + 1];
    const m = next ? Math.floor((ms - n * size) / next[0]) : 0;
    if (next && m > 0) parts.push(word(m, next[1], next[2]));
    break;
  }
  return parts.join(' ');
}

/** `since Sun 2026-11-22 15:47:00 UTC; 3s ago`, or '' when the time is unknown. */
export function since(usec: number, nowMs: number): string {
  if (!usec) return '';
  return ` since ${formatTimestamp(usec)}; ${formatSpan(nowMs - usec / 1000)} ago`;
}

export { formatCpuList } from '../../lib/cpu-list.js';

/** Length on screen: without colour escapes. */
// eslint-disable-next-line no-control-regex -- colour escapes are exactly what is stripped here
const ANSI = /\x1b\[[0-9;]*m/g;
export const visibleLength = (s: string): number => s.replace(ANSI, '').length;

/** Rows of cells as left-aligned columns; the last column is not padded. */
export function table(rows: readonly (readonly string[])[], gap = 1): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c) + gap)))
      .join('')
      .trimEnd(),
  );
}

/** `Label: value` lines with the colons in one column, as systemctl status aligns them. */
export function labelled(lines: readonly [string, string][], minWidth = 0): string[] {
  const width = Math.max(minWidth, ...lines.map(([l]) => l.length));
  const out: string[] = [];
  for (const [label, value] of lines) {
    const [first, ...more] = value.split('\n');
    out.push(`${label ? `${label}:`.padStart(width + 1) : ' '.repeat(width + 1)} ${first ?? ''}`);
    for (const m of more) out.push(`${' '.repeat(width + 2)}${m}`);
  }
  return out;
}

/**
 * Order by unit id. Plain code-unit comparison: localeCompare loads ICU's collator, which costs
 * crtosctl more start-up time than the D-Bus round trips together, and ids are ASCII anyway.
 */
export const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** `1 error`, `2 errors`: a count with its noun. */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
