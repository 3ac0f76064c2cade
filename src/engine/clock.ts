/**
 * The engine's microsecond clock, for the timestamps observers read (a unit's transitions, the
 * operations of its jobs): systemd's pair of CLOCK_MONOTONIC (µs since boot, what durations and
 * `crtosctl analyze` are computed from) and CLOCK_REALTIME (µs since the epoch, what people read).
 *
 * process.hrtime.bigint() is CLOCK_MONOTONIC in ns on Linux; Date.now() has only milliseconds. So
 * the realtime is the monotonic time plus an offset taken once from the wall clock: two instants
 * keep their µs distance. When the wall clock is stepped (NTP, an operator) by more than the
 * offset's own error, the offset is taken again, so realtime stamps never lag the wall clock.
 */

/** µs since boot (CLOCK_MONOTONIC) and since the epoch (CLOCK_REALTIME) of one instant. */
export interface Instant {
  monotonic: number;
  realtime: number;
}

/** Date.now() floors to the millisecond: a difference up to 1 ms is its rounding, not a step. */
const STEP_USEC = 2000;

let offset: bigint | undefined;

export function now(): Instant {
  const mono = process.hrtime.bigint() / 1000n;
  const wall = BigInt(Date.now()) * 1000n;
  let real = offset === undefined ? undefined : mono + offset;
  if (real === undefined || real - wall > STEP_USEC || wall - real > STEP_USEC) {
    offset = wall - mono;
    real = mono + offset;
  }
  return { monotonic: Number(mono), realtime: Number(real) };
}
