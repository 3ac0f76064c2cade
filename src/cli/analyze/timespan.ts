/**
 * A duration in µs the way systemd-analyze writes one (time-util.c's format_timespan): the
 * largest units first, and under a minute the last unit with decimals down to `accuracy`:
 * `1min 2.461s`, `1.234s`, `567ms`, `890us`, `0`.
 */
const UNITS: readonly [string, number][] = [
  ['y', 31_557_600_000_000],
  ['month', 2_629_800_000_000],
  ['w', 604_800_000_000],
  ['d', 86_400_000_000],
  ['h', 3_600_000_000],
  ['min', 60_000_000],
  ['s', 1_000_000],
  ['ms', 1000],
  ['us', 1],
];

const digits = (n: number): number => Math.round(Math.log10(n));

export function formatTimespan(usec: number, accuracy = 1000): string {
  let t = Math.max(0, Math.round(usec));
  if (t === 0) return '0';
  const parts: string[] = [];
  for (const [suffix, size] of UNITS) {
    if (t <= 0) break;
    if (t < accuracy && parts.length > 0) break;
    if (t < size) continue;
    const whole = Math.floor(t / size);
    const rest = t % size;
    // Under a minute, the remainder is shown as decimals of this unit, to the accuracy asked.
    const decimals = digits(size) - Math.max(0, digits(accuracy));
    if (t < 60_000_000 && rest > 0 && decimals > 0) {
      const fraction = Math.floor(rest / 10 ** (digits(size) - decimals));
      parts.push(`${whole}.${String(fraction).padStart(decimals, '0')}${suffix}`);
      t = 0;
      break;
    }
    parts.push(`${whole}${suffix}`);
    t = rest;
  }
  return parts.join(' ');
}
