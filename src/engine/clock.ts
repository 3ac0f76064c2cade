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
const STEP_USEC = 2000n;

/** Two readings this close are one instant, for the step check. */
const READ_TOGETHER_USEC = 200n;

let offset: bigint | undefined;

export function now(): Instant {
  const before = process.hrtime.bigint() / 1000n;
  const wall = BigInt(Date.now()) * 1000n;
  const mono = process.hrtime.bigint() / 1000n;
  // The two clocks can be compared only when both were read at one instant: a thread preempted
  // between the reads (a busy machine, a boot) would look like a stepped wall clock and move the
  // offset, so two stamps would no longer keep their monotonic distance.
  const together = mono - before <= READ_TOGETHER_USEC;
  const drift = offset === undefined ? 0n : before + offset - wall;
  if (offset === undefined || (together && (drift > STEP_USEC || -drift > STEP_USEC))) offset = wall - before;
  return { monotonic: Number(mono), realtime: Number(mono + offset) };
}
