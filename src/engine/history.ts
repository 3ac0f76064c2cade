/**
 * Per-unit history that outlives the daemon: a unit's recent log lines, its restart count, its
 * last result and its health monitor's counts, as `crtosctl status UNIT` shows them, and its
 * transition timestamps and last bring-up's operations, as `crtosctl analyze` draws them, kept in
 * the state directory. Saved a moment after it changes (one write for a burst of log lines) and when
 * the daemon closes; a crtosd killed outright loses at most that moment.
 */
import type { HistoryStore, UnitHistory } from './state-file.js';
import type { UnitRuntime } from './status.js';

const SAVE_DELAY_MS = 1000;
/** Lines of each unit's log kept across restarts (status shows 10; a chatty loader must not make every save large). */
const KEPT_LOG_LINES = 50;

export class UnitHistories {
  private readonly saved: Map<string, UnitHistory>;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: HistoryStore | undefined,
    private readonly runtimes: ReadonlyMap<string, UnitRuntime>,
    private readonly onError: (message: string) => void,
  ) {
    this.saved = store?.load() ?? new Map();
  }

  /** A new runtime takes up what its unit showed before this daemon started. */
  restore(rt: UnitRuntime): void {
    const h = this.saved.get(rt.id);
    if (!h) return;
    rt.log = [...h.log];
    rt.restarts = h.restarts;
    rt.result = h.result;
    rt.exitCode = h.exitCode;
    rt.exitSignal = h.exitSignal;
    if (h.lastError) rt.lastError = h.lastError;
    if (h.health) rt.health = h.health;
    if (h.timestamps?.monotonic) {
      rt.timestamps = structuredClone(h.timestamps);
      if (h.activeState) rt.resumed = h.activeState;
    }
    if (h.operations) rt.operations = [...h.operations];
  }

  /** Something shown changed: saved shortly. */
  changed(): void {
    if (!this.store || this.timer) return;
    this.timer = setTimeout(() => this.flush(), SAVE_DELAY_MS);
    this.timer.unref?.();
  }

  /** Writes now what every unit shows (units removed from the set are forgotten). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.store) return;
    this.saved.clear();
    for (const rt of this.runtimes.values()) {
      this.saved.set(rt.id, {
        log: rt.log.slice(-KEPT_LOG_LINES),
        restarts: rt.restarts,
        result: rt.result,
        exitCode: rt.exitCode,
        exitSignal: rt.exitSignal,
        ...(rt.lastError ? { lastError: rt.lastError } : {}),
        ...(rt.health ? { health: rt.health } : {}),
        timestamps: rt.timestamps,
        activeState: rt.activeState,
        operations: rt.operations,
      });
    }
    try {
      this.store.save(this.saved);
    } catch (e) {
      this.onError(`cannot save the units' history: ${(e as Error).message}`);
    }
  }
}
