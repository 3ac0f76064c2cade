/**
 * Liveness checks, kubelet style: each unit that declares `liveness:` is checked every period
 * while it is active, and failureThreshold failures in a row are one liveness event for the health
 * monitor. A unit without one costs nothing (no prober, no timer).
 *
 * Each unit has one prober and one timer at most. The next check is scheduled only once the last
 * one ended, so checks never overlap; a check's result counts only if the unit is still live when
 * it comes (active, no job on it, nothing holding it) and the prober was not reset meanwhile (a new
 * run starts counting afresh, after initialDelay).
 */
import type { Host, ToolRunObserver } from '../../host/host.js';
import type { LivenessSpec } from './schema.js';
import { probe, type HeartbeatMemory } from './probes.js';

/** A unit the supervisor wants checked: its check and the environment an exec check runs with. */
export interface LivenessWant {
  spec: LivenessSpec;
  env: Record<string, string>;
}

export interface LivenessContext {
  host: Host;
  /** Whether a result for this unit counts now (it is active, no job runs on it, no hold). */
  isLive(id: string): boolean;
  /** failureThreshold failures in a row; `why` is the last one's. */
  failed(id: string, failures: number, why: string): void;
  runs?: (unit: string, deadline: number) => ToolRunObserver;
  /** The clock (ms); Date.now by default. */
  now?: () => number;
}

export class LivenessChecks {
  private readonly probers = new Map<string, Prober>();

  constructor(private readonly ctx: LivenessContext) {}

  /** Checks exactly the units given (started, kept, or restarted when their check changed); stops the others. */
  sync(wanted: ReadonlyMap<string, LivenessWant>): void {
    for (const [id, prober] of this.probers) {
      const want = wanted.get(id);
      if (want && prober.key === keyOf(want)) continue;
      prober.stop();
      this.probers.delete(id);
    }
    for (const [id, want] of wanted) {
      if (this.probers.has(id)) continue;
      const prober = new Prober(id, want, this.ctx);
      this.probers.set(id, prober);
      prober.start();
    }
  }

  /** A new run of the unit (a start or reload completed): failures forgotten, the first check after initialDelay. */
  reset(id: string): void {
    this.probers.get(id)?.reset();
  }

  /** The units being checked, for tests and status. */
  checked(): string[] {
    return [...this.probers.keys()];
  }

  close(): void {
    for (const p of this.probers.values()) p.stop();
    this.probers.clear();
  }
}

function keyOf(want: LivenessWant): string {
  return JSON.stringify([want.spec, want.env]);
}

class Prober {
  readonly key: string;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private stopped = false;
  /** Bumped by reset and stop: a check that began before counts for nothing. */
  private generation = 0;
  private failures = 0;
  private heartbeat: HeartbeatMemory = {};
  private readonly now: () => number;

  constructor(
    private readonly id: string,
    private readonly want: LivenessWant,
    private readonly ctx: LivenessContext,
  ) {
    this.key = keyOf(want);
    this.now = ctx.now ?? Date.now;
  }

  start(): void {
    this.schedule(this.want.spec.initialDelay);
  }

  reset(): void {
    this.generation++;
    this.failures = 0;
    this.heartbeat = {};
    clearTimeout(this.timer);
    this.timer = undefined;
    // A check under way reschedules when it ends (never two at once).
    if (!this.inFlight) this.start();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.check(), Math.max(0, ms));
    this.timer.unref?.();
  }

  private async check(): Promise<void> {
    this.timer = undefined;
    const { spec } = this.want;
    const began = this.now();
    if (!this.ctx.isLive(this.id)) {
      // Not checked while down or being worked on; a heartbeat starts from a fresh mark after.
      this.failures = 0;
      this.heartbeat = {};
      this.schedule(spec.period);
      return;
    }
    const generation = this.generation;
    this.inFlight = true;
    const result = await probe(spec, { host: this.ctx.host, env: this.want.env, heartbeat: this.heartbeat, now: this.now, ...(this.ctx.runs ? { runs: (deadline) => this.ctx.runs!(this.id, deadline) } : {}) });
    this.inFlight = false;
    if (this.stopped) return;
    if (generation !== this.generation) {
      this.start();
      return;
    }
    if (result.ok || !this.ctx.isLive(this.id)) this.failures = 0;
    else if (++this.failures >= spec.failureThreshold) {
      const failures = this.failures;
      this.failures = 0;
      this.ctx.failed(this.id, failures, result.why);
      // What the event led to may have stopped or reset this prober.
      if (this.stopped || generation !== this.generation) return;
    }
    this.schedule(began + spec.period - this.now());
  }
}
