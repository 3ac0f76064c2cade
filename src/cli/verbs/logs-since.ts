/**
 * `crtosctl logs --since TIME`: the times journalctl takes (systemd.time(7)), in local time unless
 * `UTC` ends them: `YYYY-MM-DD HH:MM:SS[.frac]` (a `T` may stand for the space; seconds, or the
 * whole time of day, may be left out), `HH:MM[:SS]` (today), `now`, `today`, `yesterday`,
 * `tomorrow`, `@SECONDS` (since the epoch), and spans before or after now: `-5min`, `5 min ago`,
 * `+1h`, `1h 30min ago`, `10s left`. Pure: now is passed in.
 */

const UNIT_USEC: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(us|usec|µs)$/, 1],
  [/^(ms|msec)$/, 1e3],
  [/^(s|sec|secs|second|seconds)$/, 1e6],
  [/^(m|min|mins|minute|minutes)$/, 60e6],
  [/^(h|hr|hrs|hour|hours)$/, 3600e6],
  [/^(d|day|days)$/, 86400e6],
  [/^(w|week|weeks)$/, 7 * 86400e6],
  // systemd's month and year: 30.44 and 365.25 days.
  [/^(M|month|months)$/, 2629800e6],
  [/^(y|year|years)$/, 31557600e6],
];

/** A span such as `1h 30min` or `5 min` in µs; undefined when it is not one. */
export function parseSpan(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)\s*([a-zA-Zµ]*)\s*/y;
  let at = 0;
  while (at < s.length) {
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) return undefined;
    // A bare number is seconds, as systemd reads it.
    const unit = m[2] === '' ? 1e6 : UNIT_USEC.find(([r]) => r.test(m[2]!))?.[1];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    at = re.lastIndex;
  }
  return total;
}

function startOfDay(nowMs: number, days: number, utc: boolean): number {
  const d = new Date(nowMs);
  return utc ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + days) : new Date(d.getFullYear(), d.getMonth(), d.getDate() + days).getTime();
}

const ABSOLUTE = /^(?:(\d{4})-(\d{1,2})-(\d{1,2}))?(?:[ T]?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/;

/** The time `text` names, in µs since the epoch; undefined when it names none. */
export function parseSince(text: string, nowMs: number): number | undefined {
  let s = text.trim();
  const utc = / UTC$/i.test(s);
  if (utc) s = s.slice(0, -4).trim();
  const words: Record<string, number> = { today: 0, yesterday: -1, tomorrow: 1 };
  if (s === 'now') return nowMs * 1000;
  if (s in words) return startOfDay(nowMs, words[s]!, utc) * 1000;
  if (/^@\d+(\.\d+)?$/.test(s)) return Math.round(Number(s.slice(1)) * 1e6);
  const sign = s.startsWith('-') || / ago$/.test(s) ? -1 : s.startsWith('+') || / left$/.test(s) ? 1 : 0;
  if (sign !== 0) {
    const span = parseSpan(s.replace(/^[-+]/, '').replace(/ (ago|left)$/, ''));
    return span === undefined ? undefined : nowMs * 1000 + sign * span;
  }
  const m = ABSOLUTE.exec(s);
  if (!m || (m[1] === undefined && m[4] === undefined)) return undefined;
  const today = new Date(nowMs);
  const num = (i: number, fallback: number) => (m[i] === undefined ? fallback : Number(m[i]));
  const [year, month, day] = m[1] === undefined ? (utc ? [today.getUTCFullYear(), today.getUTCMonth() + 1, today.getUTCDate()] : [today.getFullYear(), today.getMonth() + 1, today.getDate()]) : [num(1, 0), num(2, 1), num(3, 1)];
  const [hour, minute, second] = [num(4, 0), num(5, 0), num(6, 0)];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = utc ? Date.UTC(year, month - 1, day, hour, minute, second) : new Date(year, month - 1, day, hour, minute, second).getTime();
  const frac = m[7] === undefined ? 0 : Number(m[7].padEnd(6, '0'));
  return ms * 1000 + frac;
}
