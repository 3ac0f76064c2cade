/**
 * The unit table: everything the engine keeps per unit between passes, in one object that the
 * Manager, the job runner and the supervisor share instead of calling each other back.
 *
 * - the unit set in force and its descriptions, and the applied records (what runs, by crtosd);
 * - each unit's runtime (what observers see), its log ring, and its history across restarts;
 * - holds (why a unit is kept down), start histories (restart back-off and start limits),
 *   restarts and reloads asked for, descriptions the machine refused while the unit ran;
 * - the targets a pass observes and acts on;
 * - the announcements: a unit's status is sent only when it changed since it was last sent.
 *
 * It does no I/O of its own beyond the state store; the events go to the sink it was given.
 */
import type { UnitSet, Unit } from '../units/types.js';
import { problem, type Problem } from '../errors/problem.js';
import type { Target } from '../kinds/behaviours.js';
import type { JobInfo, JobResult, LogLine, ManagerEvents, UnitStatus } from './manager-api.js';
import type { LoaderLine } from './loader-output.js';
import { AppliedRecords } from './applied-records.js';
import { UnitHistories } from './history.js';
import type { StateStore } from './state-file.js';
import { StartHistory } from './supervision.js';
import { emptyDetails, newRuntime, toStatus, transition, type UnitRuntime } from './status.js';
import type { Hold, Observation, UnitDescription } from './types.js';
import type { PendingChange } from './plan.js';
import type { Skip } from '../conditions/machine-set.js';
import type { MaskScope } from './masks.js';

const LOG_LINES_PER_UNIT = 200;

/** Where the table's announcements go (the Manager's EventEmitter). */
export interface UnitTableEvents {
  emit<E extends keyof ManagerEvents>(event: E, ...args: ManagerEvents[E]): unknown;
}

/** Restarts and reloads asked for since the last pass took them. */
export interface Requests {
  restarts: Set<string>;
  reloads: Map<string, string>;
}

export class UnitTable {
  /** The unit set in force; undefined until one was accepted. */
  set: UnitSet | undefined;
  descriptions = new Map<string, UnitDescription>();
  /** Units of the set that do not run on this machine (conditions), with why; they have no description. */
  skipped: ReadonlyMap<string, Skip> = new Map();
  readonly records: AppliedRecords;
  readonly runtimes = new Map<string, UnitRuntime>();
  readonly holds = new Map<string, Hold>();
  readonly histories = new Map<string, StartHistory>();
  /** By unit, the digest of a description the machine refused while the unit ran (it runs on as it was). */
  readonly refused = new Map<string, string>();
  private readonly restartRequests = new Set<string>();
  /** Reloads in place asked for, with why (a manual reload, an onFailure restart). */
  private readonly reloadRequests = new Map<string, string>();
  /** The status last announced of each unit, as JSON: an unchanged status is not sent again. */
  private readonly lastEmitted = new Map<string, string>();
  private readonly unitHistory: UnitHistories;
  private nextJobId = 1;
  /** Masked units (masks.ts) and the scope of their mask. */
  masks: ReadonlyMap<string, MaskScope> = new Map();
  /**
   * By unit, when (performance.now(), ms) the engine last learnt of a change of it first-hand
   * rather than by reading the machine: a loader's exit, reported by its exit watch.
   */
  private readonly firstHand = new Map<string, number>();

  constructor(
    store: StateStore,
    private readonly events: UnitTableEvents,
  ) {
    this.records = new AppliedRecords(store, (message) => this.log('error', undefined, message));
    this.unitHistory = new UnitHistories(store.history, this.runtimes, (message) => this.log('warn', undefined, message));
  }

  // ---- lookups ---------------------------------------------------------------------------------

  /** The unit of that id in the current set. */
  unit(id: string): Unit | undefined {
    return this.set?.units.get(id);
  }

  description(id: string): UnitDescription | undefined {
    return this.descriptions.get(id);
  }

  /** The digest of the unit's current description. */
  digest(id: string): string | undefined {
    return this.descriptions.get(id)?.digest;
  }

  /** Every unit observers can see (in the set, or removed and still recorded), without building its status. */
  ids(): string[] {
    return [...this.runtimes.keys()];
  }

  status(id: string): UnitStatus | undefined {
    const rt = this.runtimes.get(id);
    return rt ? this.statusOf(rt) : undefined;
  }

  statuses(): UnitStatus[] {
    return [...this.runtimes.values()].map((rt) => this.statusOf(rt));
  }

  private statusOf(rt: UnitRuntime): UnitStatus {
    const status = toStatus(rt, this.set);
    if (this.masks.has(rt.id)) status.loadState = 'masked';
    return status;
  }

  /** True when some unit is failed (the daemon is degraded). */
  anyFailed(): boolean {
    return [...this.runtimes.values()].some((rt) => rt.activeState === 'failed');
  }

  /**
   * Units in a set (facts: what was applied, else what the files say) and the recorded units it
   * no longer has. Of the set in force by default; of a candidate set for a preview.
   */
  targets(set: UnitSet | undefined = this.set, descriptions: ReadonlyMap<string, UnitDescription> = this.descriptions): Target[] {
    const out: Target[] = [];
    for (const unit of set?.units.values() ?? []) {
      const rec = this.records.map.get(unit.id);
      out.push({ id: unit.id, kind: unit.kind, unit, facts: { ...(descriptions.get(unit.id)?.facts ?? {}), ...(rec?.facts ?? {}) } });
    }
    for (const rec of this.records.map.values()) {
      if (!set?.units.has(rec.id)) out.push({ id: rec.id, kind: rec.kind, facts: rec.facts });
    }
    return out;
  }

  // ---- runtimes and histories ------------------------------------------------------------------

  /** The unit's runtime, created (and announced) when missing. */
  runtime(id: string, obs?: Observation): UnitRuntime {
    let rt = this.runtimes.get(id);
    if (!rt) {
      // Every unit the engine acts on is in the set or recorded: anything else is a bug, not a Driver.
      const kind = this.set?.units.get(id)?.kind ?? this.records.map.get(id)?.kind;
      if (kind === undefined) throw new Error(`no runtime for ${id}: it is neither in the unit set nor recorded`);
      rt = this.addRuntime(id, kind, obs?.details ?? emptyDetails(kind));
    }
    return rt;
  }

  /** The unit's runtime, if there is one. */
  existingRuntime(id: string): UnitRuntime | undefined {
    return this.runtimes.get(id);
  }

  removeRuntime(id: string): void {
    if (!this.runtimes.delete(id)) return;
    this.lastEmitted.delete(id);
    this.firstHand.delete(id);
    this.events.emit('unitRemoved', id);
  }

  private addRuntime(id: string, kind: string, details: UnitRuntime['details']): UnitRuntime {
    const rt = newRuntime(id, kind, details);
    this.unitHistory.restore(rt);
    this.runtimes.set(id, rt);
    this.events.emit('unitNew', id);
    return rt;
  }

  /** The unit's start history (back-off, start limit), made on first use. */
  history(id: string): StartHistory {
    let h = this.histories.get(id);
    if (!h) this.histories.set(id, (h = new StartHistory()));
    return h;
  }

  /** Saves the units' history now (the daemon closes). */
  flush(): void {
    this.unitHistory.flush();
  }

  // ---- holds and requests ----------------------------------------------------------------------

  /** Held down (a manual stop, or --stop-on-exit): nothing restarts or reloads it meanwhile. */
  stop(id: string): void {
    this.holds.set(id, { reason: 'stopped' });
    this.restartRequests.delete(id);
    this.reloadRequests.delete(id);
  }

  /**
   * Asked up again by the operator: the holds on it and on what it requires are lifted, a refused
   * description is tried again and the start limit starts afresh.
   */
  release(id: string): void {
    this.liftHolds(id);
    this.refused.delete(id);
    this.histories.get(id)?.reset();
  }

  requestRestart(id: string): void {
    this.restartRequests.add(id);
  }

  /** Asks the next pass to reload a unit in place (a cell), saying why in its log line. */
  requestReload(id: string, why: string): void {
    this.reloadRequests.set(id, why);
  }

  /** The restarts and reloads asked for, for the pass that begins: taken, so asked once. */
  takeRequests(): Requests {
    const taken = { restarts: new Set(this.restartRequests), reloads: new Map(this.reloadRequests) };
    this.restartRequests.clear();
    this.reloadRequests.clear();
    return taken;
  }

  /** Puts the masks read from the mask store in force, announcing the units whose LoadState changes. */
  setMasks(masks: ReadonlyMap<string, MaskScope>): void {
    const changed = [...new Set([...this.masks.keys(), ...masks.keys()])].filter((id) => this.masks.has(id) !== masks.has(id));
    this.masks = masks;
    for (const id of changed) this.announce(id);
  }

  /**
   * The holds a plan goes by: a masked unit is held 'masked' (never started, and left running
   * if it runs), unless it is held stopped, which takes it down.
   */
  planHolds(): ReadonlyMap<string, Hold> {
    if (this.masks.size === 0) return this.holds;
    const out = new Map(this.holds);
    for (const id of this.masks.keys()) if (out.get(id)?.reason !== 'stopped') out.set(id, { reason: 'masked' });
    return out;
  }

  /**
   * reset-failed (operator-api.ts): the start limit, restart count and health counts of the unit
   * start afresh; a failed unit becomes inactive, held as if stopped (systemd does not start a
   * unit whose failure is reset either). Returns whether it was failed.
   */
  resetFailed(id: string): boolean {
    this.histories.get(id)?.reset();
    const rt = this.runtimes.get(id);
    if (!rt) return false;
    rt.restarts = 0;
    delete rt.health;
    const failed = rt.activeState === 'failed';
    if (failed && !rt.job) {
      rt.result = 'success';
      delete rt.lastError;
      this.holds.set(id, { reason: 'stopped' });
      transition(rt, 'inactive', 'dead');
    }
    this.announce(id);
    this.unitHistory.changed();
    return failed;
  }

  /** A reload is also the operator's "try again": units a failure holds down are retried. */
  retryFailed(): void {
    for (const [id, hold] of this.holds) {
      if (hold.reason !== 'failed' && hold.reason !== 'start-limit') continue;
      this.holds.delete(id);
      this.histories.get(id)?.reset();
    }
  }

  private liftHolds(id: string, seen = new Set<string>()): void {
    if (seen.has(id)) return;
    seen.add(id);
    this.holds.delete(id);
    const rt = this.runtimes.get(id);
    if (rt && rt.result !== 'success') {
      rt.result = 'success';
      delete rt.lastError;
    }
    for (const r of this.set?.deps.get(id)?.requires ?? []) this.liftHolds(r, seen);
  }

  // ---- the set -----------------------------------------------------------------------------------

  /**
   * Puts a new unit set in force. `cancelRestart` drops the pending automatic restart of a unit
   * whose new description is to be tried at once.
   */
  install(set: UnitSet, descriptions: Map<string, UnitDescription>, cancelRestart: (id: string) => void, skipped: ReadonlyMap<string, Skip> = new Map()): void {
    // An edited unit is a new unit: a fresh start limit, and a failure, a start-limit hit or a
    // clean exit of the old description no longer keeps it down. Manual stops stay.
    for (const [id, desc] of descriptions) {
      const before = this.descriptions.get(id);
      if (!before || before.digest === desc.digest) continue;
      this.refused.delete(id);
      this.histories.get(id)?.reset();
      const hold = this.holds.get(id);
      // A description that may fix a failed unit is tried at once, not after the back-off.
      if (hold && (hold.reason === 'failed' || hold.reason === 'start-limit' || hold.reason === 'exited' || hold.reason === 'restart-pending')) {
        this.holds.delete(id);
        cancelRestart(id);
        const rt = this.runtimes.get(id);
        if (rt) {
          rt.result = 'success';
          delete rt.lastError;
        }
      }
    }
    const before = new Set(this.runtimes.keys());
    this.set = set;
    this.descriptions = descriptions;
    this.skipped = skipped;
    for (const id of this.holds.keys()) if (!descriptions.has(id)) this.holds.delete(id);
    for (const id of this.refused.keys()) if (!descriptions.has(id)) this.refused.delete(id);
    for (const unit of set.units.values()) {
      if (!this.runtimes.has(unit.id)) this.addRuntime(unit.id, unit.kind, emptyDetails(unit.kind));
      this.runtimes.get(unit.id)!.condition = skipped.get(unit.id)?.text;
    }
    for (const id of before) if (!set.units.has(id) && !this.records.map.has(id)) this.removeRuntime(id);
    // What the files say (description, source, drop-ins, dependencies) is announced now, not after
    // the pass has looked at the machine: an edit that needs nothing done shows at once.
    for (const unit of set.units.values()) this.announce(unit.id);
  }

  // ---- the state machine -------------------------------------------------------------------------

  /** A change of the unit learnt first-hand (a loader's exit, handled now): no older observation may undo it (current). */
  witnessed(id: string): void {
    this.firstHand.set(id, performance.now());
  }

  /**
   * The observations of a snapshot whose reads began at `takenAt` (TimedSnapshot) that are still
   * current: without those of the units that changed first-hand since. A snapshot is read over
   * many awaits; a loader that exits meanwhile is seen alive by it, and its exit, handled before
   * the pass acts on the snapshot, would be overwritten: shown active with a dead PID, its failure
   * or restart policy's state lost, the process adopted again. As systemd takes SIGCHLD over what
   * /proc said before it, the exit wins: the unit is left out, so refresh keeps what the exit
   * handler made of it, and the plan takes it as not running (the default for a unit with no
   * observation), which is what an exit leaves. The next pass (every exit asks for one) reads it again.
   */
  current(observed: ReadonlyMap<string, Observation>, takenAt: number): Map<string, Observation> {
    return new Map([...observed].filter(([id]) => (this.firstHand.get(id) ?? -Infinity) < takenAt));
  }

  /**
   * Each observed unit's state as observers see it, from what the machine shows, its hold, and
   * the units the plan could not start for want of one they require (`blocked`). A unit a job is
   * working on keeps the job's state.
   */
  refresh(observed: ReadonlyMap<string, Observation>, blocked: ReadonlyMap<string, string>, pending: ReadonlyMap<string, PendingChange> = new Map()): void {
    for (const [id, obs] of observed) {
      const rt = this.runtime(id, obs);
      rt.details = obs.details;
      const held = pending.get(id);
      rt.pendingChange = held ? `${held.reason}; ${held.hint}` : undefined;
      if (rt.job) continue;
      const hold = this.holds.get(id);
      const skip = this.skipped.get(id);
      if (skip && obs.state === 'inactive') {
        // Not run on this machine, which is no failure (systemd's condition-failed units are inactive).
        rt.result = 'success';
        delete rt.lastError;
        transition(rt, 'inactive', skip.subState);
        this.announce(id);
        continue;
      }
      if (obs.state === 'active') {
        if (rt.activeState !== 'active') rt.result = rt.result === 'start-limit-hit' ? rt.result : 'success';
        transition(rt, 'active', obs.subState);
      } else if (obs.state === 'failed') {
        if (obs.problem && rt.lastError?.message !== obs.problem.message) {
          rt.result = 'exit-code';
          rt.lastError = obs.problem;
          this.log('error', id, obs.problem.message);
        }
        transition(rt, 'failed', obs.subState);
      }
      else if (hold?.reason === 'restart-pending') transition(rt, 'activating', 'auto-restart');
      else if (blocked.has(id)) {
        if (rt.result !== 'dependency' || rt.activeState !== 'failed') {
          rt.result = 'dependency';
          rt.lastError = problem('ENGINE_DEPENDENCY', `not started: ${blocked.get(id)}, which it requires, is not available`, { unit: id });
        }
        transition(rt, 'failed', 'dead');
      } else if (obs.state === 'partial') transition(rt, hold ? 'failed' : 'activating', obs.subState);
      else if (hold?.reason === 'stopped' && rt.result === 'success') transition(rt, 'inactive', 'dead');
      else transition(rt, rt.result === 'success' ? 'inactive' : 'failed', rt.result === 'success' ? 'dead' : 'failed');
      this.announce(id);
    }
  }

  /** A failure the unit is held down for, recorded on its runtime. */
  fail(id: string, why: Problem): UnitRuntime {
    const rt = this.runtime(id);
    rt.result = 'exit-code';
    rt.lastError = why;
    return rt;
  }

  // ---- announcements -----------------------------------------------------------------------------

  /** Announces the unit's status (unitChanged) if it differs from what was last announced. */
  announce(id: string): void {
    const rt = this.runtimes.get(id);
    if (!rt) return;
    const status = this.statusOf(rt);
    const json = JSON.stringify(status);
    if (this.lastEmitted.get(id) === json) return;
    this.lastEmitted.set(id, json);
    this.unitHistory.changed();
    this.events.emit('unitChanged', status);
  }

  /** A log line: into the unit's log ring (and its saved history) when it names a unit, and out. */
  log(level: LogLine['level'], unit: string | undefined, message: string): void {
    const line: LogLine = { time: Date.now() * 1000, level, ...(unit ? { unit } : {}), message };
    if (unit) {
      const rt = this.runtimes.get(unit);
      if (rt) {
        rt.log.push(line);
        if (rt.log.length > LOG_LINES_PER_UNIT) rt.log.splice(0, rt.log.length - LOG_LINES_PER_UNIT);
        this.unitHistory.changed();
      }
    }
    this.events.emit('log', line);
  }

  /** A line a loader wrote, announced whole (loaderOutput) beside the unit log's labelled copy. */
  loaderOutput(line: LoaderLine): void {
    this.events.emit('loaderOutput', line);
  }

  /** The unit's recent log lines, oldest first (all of them when `lines` is 0). */
  unitLog(id: string, lines: number): LogLine[] {
    const log = this.runtimes.get(id)?.log ?? [];
    return lines > 0 ? log.slice(-lines) : [...log];
  }

  // ---- jobs --------------------------------------------------------------------------------------

  /** A new job id (manual jobs and the jobs of a pass share one sequence, as systemd's do). */
  newJobId(): number {
    return this.nextJobId++;
  }

  jobNew(info: JobInfo): void {
    this.events.emit('jobNew', { ...info });
  }

  jobRemoved(info: JobInfo, result: JobResult): void {
    this.events.emit('jobRemoved', { ...info }, result);
  }
}
