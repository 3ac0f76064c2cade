/**
 * The Manager: one serialized loop of observe → plan → apply, fed by triggers (start, a unit file
 * change, a manual job, a restart timer, a loader exiting, a cell changing state in sysfs). It
 * implements ManagerApi for the D-Bus service, the log and `--once`.
 *
 * Level-triggered: a pass reads the machine and decides from it, the unit set, the state file
 * and a few holds (manual stops, failures not to retry); it never replays events. A restarted
 * daemon therefore converges to the same state and adopts what already runs.
 *
 * The concerns live beside it: running a pass's jobs (jobs.ts), supervision between passes
 * (supervisor.ts) and the applied records with their state file (applied-records.ts).
 */
import { EventEmitter } from 'node:events';
import type { Host } from '../host/host.js';
import type { UnitSet } from '../units/types.js';
import { hasErrors, problem, ProblemError, type Problem } from '../errors/problem.js';
import { renderProblem } from '../errors/render.js';
import type {
  DaemonStatus,
  JobInfo,
  JobResult,
  JobType,
  LogLine,
  ManagerApi,
  ManagerEvents,
  PlannedStep,
  ReloadOutcome,
  UnitResult,
  UnitStatus,
} from './manager-api.js';
import { behaviourKinds, behaviourOf, canReload, type Target } from '../kinds/behaviours.js';
import { describeUnits, hostFiles, unitFileErrors } from './description.js';
import { checkTransaction } from '../transaction/check.js';
import { hypervisorTransition, observeAll, takeSnapshot } from './observe.js';
import { DEFAULT_BACKEND, type Transition } from '../backends/index.js';
import type { Snapshot } from './types.js';
import { plan as buildPlan, type PlanJob } from './plan.js';
import type { JobOutcome } from './apply.js';
import { StartHistory } from './supervision.js';
import type { StateStore } from './state-file.js';
import { emptyDetails, newRuntime, toStatus, transition, type UnitRuntime } from './status.js';
import type { Hold, Observation, UnitDescription } from './types.js';
import { AppliedRecords } from './applied-records.js';
import { Supervisor } from './supervisor.js';
import { UnitHistories } from './history.js';
import { JobRunner } from './jobs.js';

export interface LoadResult {
  set?: UnitSet;
  problems: Problem[];
  /** Unit file texts (src/units loadUnits gives them): problems found later point at their YAML node. */
  sources?: ReadonlyMap<string, string>;
}

export interface ManagerOptions {
  host: Host;
  /** Reads the unit files; never throws (src/units loadUnits). */
  loadUnits: () => Promise<LoadResult>;
  store: StateStore;
  unitDirectories?: string[];
  version?: string;
  /** How often the backends' state is polled (Backend.changed: Jailhouse's cells in sysfs); 0 turns polling off. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Restart timers and exit watching; off for `--once`. Default true. */
  supervise?: boolean;
  /** Environment every loader starts with (PATH), under its own variables. */
  loaderEnv?: Record<string, string>;
  /** Directory for loader stdout/stderr files (ID.log); none when undefined. */
  logDir?: string;
  /** Jobs run at once at most (each may start a tool process); default 10. */
  maxParallelJobs?: number;
  /**
   * Of those, at most this many that serialize on the Jailhouse driver lock (cells, the
   * hypervisor); enough to have the next command waiting when the lock frees, the others being
   * in their tools' start-up meanwhile (6 left the lock idle ~2 % of a 32-cell bring-up). Default 8.
   */
  maxLockedJobs?: number;
}

const LOG_LINES_PER_UNIT = 200;
/** How often a pass looks again at a hypervisor in transition (the backend's transition says how long at most). */
const TRANSITION_POLL_MS = 50;

type JobGoal = 'start' | 'stop';
interface ManualJob {
  info: JobInfo;
  goal: JobGoal;
  /** The pass generation it waits for: resolved when a pass that began after it ends. */
  after: number;
}

export class Manager extends EventEmitter implements ManagerApi {
  private readonly host: Host;
  private readonly opts: ManagerOptions;
  private set: UnitSet | undefined;
  private descriptions = new Map<string, UnitDescription>();
  private readonly records: AppliedRecords;
  private readonly holds = new Map<string, Hold>();
  private readonly restartRequests = new Set<string>();
  /** By unit, the digest of a description the machine refused while the unit ran (it runs on as it was). */
  private readonly refused = new Map<string, string>();
  /** Cell reloads asked for, with why (a manual reload, an onFailure restart). */
  private readonly reloadRequests = new Map<string, string>();
  private readonly runtimes = new Map<string, UnitRuntime>();
  private readonly histories = new Map<string, StartHistory>();
  private readonly lastEmitted = new Map<string, string>();
  private readonly manualJobs: ManualJob[] = [];
  private readonly supervisor: Supervisor;
  private readonly unitHistory: UnitHistories;
  private readonly jobs: JobRunner;
  private lastLoadErrors: Problem[] = [];
  private lastReconcile = 0;
  private systemState: DaemonStatus['systemState'] = 'starting';
  private nextJobId = 1;
  private generation = 0;
  private passPromise: Promise<void> | undefined;
  private dirty = false;
  private closed = false;
  /**
   * Set by reload(): the first pass that begins after the new set is installed (generation above
   * `after`) reports its steps and the problems of those that failed here.
   */
  private reloadReport: { after: number; taken: boolean; steps: PlannedStep[]; failures: Problem[] } | undefined;

  constructor(opts: ManagerOptions) {
    super();
    this.opts = opts;
    this.host = opts.host;
    this.setMaxListeners(100);
    this.records = new AppliedRecords(opts.store, (message) => this.log('error', undefined, message));
    this.unitHistory = new UnitHistories(opts.store.history, this.runtimes, (message) => this.log('warn', undefined, message));
    const common = {
      host: opts.host,
      records: this.records,
      holds: this.holds,
      runtime: (id: string) => this.runtime(id),
      history: (id: string) => this.history(id),
      log: (level: LogLine['level'], unit: string | undefined, message: string) => this.log(level, unit, message),
      emitUnit: (id: string) => this.emitUnit(id),
      reconcile: (reason: string) => this.reconcile(reason),
    };
    this.supervisor = new Supervisor({
      ...common,
      supervise: opts.supervise !== false,
      pollIntervalMs: opts.pollIntervalMs ?? 1000,
      unit: (id) => this.set?.units.get(id),
      digest: (id) => this.descriptions.get(id)?.digest,
      requestReload: (id, why) => void this.reloadRequests.set(id, why),
      closed: () => this.closed,
      passRunning: () => this.passPromise !== undefined,
    });
    this.jobs = new JobRunner({
      ...common,
      maxParallelJobs: opts.maxParallelJobs ?? 10,
      maxLockedJobs: opts.maxLockedJobs ?? 8,
      logDir: opts.logDir,
      loaderEnv: opts.loaderEnv,
      supervisor: this.supervisor,
      currentSet: () => this.set,
      description: (id) => this.descriptions.get(id),
      nextJobId: () => this.nextJobId++,
      jobNew: (info) => this.emit('jobNew', info),
      jobRemoved: (info, result) => this.emit('jobRemoved', info, result),
      existingRuntime: (id) => this.runtimes.get(id),
      removeRuntime: (id) => this.removeRuntime(id),
      resolveManualJobsFor: (unit, job, outcome) => this.resolveManualJobsFor(unit, job, outcome),
    });
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /** Loads the unit files and the state file, converges once, then keeps watching. */
  async start(): Promise<ReloadOutcome> {
    for (const p of this.records.load()) this.log('warn', p.unit, p.message);
    const outcome = await this.reload();
    if (!outcome.ok && !this.set) {
      // Nothing to apply yet; still observe what runs (re-adopted from the state file).
      await this.reconcile('start');
    }
    this.supervisor.startPolling();
    return outcome;
  }

  /** Stops timers and watchers; touches nothing on the machine. */
  close(): void {
    this.closed = true;
    this.unitHistory.flush();
    this.supervisor.close();
  }

  /** --stop-on-exit: every unit down, in reverse dependency order. */
  async stopAll(): Promise<void> {
    this.systemState = 'stopping';
    this.emitDaemon();
    await this.idle();
    for (const id of this.set?.units.keys() ?? []) this.holds.set(id, { reason: 'stopped' });
    await this.reconcile('stop on exit');
  }

  /** True when no pass runs or is queued and no restart timer is pending. */
  settled(): boolean {
    return !this.passPromise && !this.supervisor.hasPendingRestarts();
  }

  /** Resolves when no pass is running or queued. */
  async idle(): Promise<void> {
    while (this.passPromise) await this.passPromise;
  }

  // ---- ManagerApi ---------------------------------------------------------------------------------

  daemon(): DaemonStatus {
    return {
      version: this.opts.version ?? '0.0.0',
      unitDirectories: this.opts.unitDirectories ?? this.set?.directories ?? [],
      lastLoadErrors: [...this.lastLoadErrors],
      lastReconcile: this.lastReconcile,
      systemState: this.systemState,
    };
  }

  listUnits(): UnitStatus[] {
    return [...this.runtimes.values()].map((rt) => toStatus(rt, this.set));
  }

  getUnit(id: string): UnitStatus | undefined {
    const rt = this.runtimes.get(id);
    return rt ? toStatus(rt, this.set) : undefined;
  }

  enqueue(id: string, type: JobType): JobInfo {
    const unit = this.set?.units.get(id);
    if (!unit) {
      throw new ProblemError(problem('ENGINE_NO_SUCH_UNIT', `no unit ${id} is loaded`, { unit: id, hint: '`crtosctl list-units` shows the loaded units' }));
    }
    if (type === 'reload' && !canReload(unit.kind)) {
      throw new ProblemError(problem('ENGINE_BAD_JOB', `${id} cannot be reloaded: ${whoReloads()}`, { unit: id, hint: 'use restart' }));
    }
    const info: JobInfo = { id: this.nextJobId++, unit: id, type, state: 'waiting' };
    if (type === 'stop') {
      this.holds.set(id, { reason: 'stopped' });
      this.restartRequests.delete(id);
      this.reloadRequests.delete(id);
    } else {
      this.liftHolds(id);
      this.refused.delete(id);
      this.histories.get(id)?.reset();
      if (type === 'restart') this.restartRequests.add(id);
      if (type === 'reload') this.reloadRequests.set(id, 'reload requested');
    }
    this.manualJobs.push({ info, goal: type === 'stop' ? 'stop' : 'start', after: this.generation + 1 });
    this.emit('jobNew', { ...info });
    this.trigger(`${type} ${id} requested`);
    return { ...info };
  }

  async reload(): Promise<ReloadOutcome> {
    const loaded = await this.describedLoad();
    if (!loaded.set || hasErrors(loaded.problems)) {
      this.lastLoadErrors = loaded.problems;
      const errors = loaded.problems.filter((p) => (p.severity ?? 'error') === 'error').length;
      this.log('error', undefined, `unit files refused (${errors} error${errors === 1 ? '' : 's'}); nothing was changed, the ${this.set ? 'last good set runs on' : 'machine is left as it is'}`);
      // One line each, compiler style (file:line:column: error[CODE]: what (unit)), with the fix.
      for (const p of loaded.problems) this.log(p.severity === 'warning' ? 'warn' : 'error', p.unit, `${renderProblem({ ...p, hint: undefined }).trimEnd()}${p.hint ? `; hint: ${p.hint}` : ''}`);
      this.emitDaemon();
      return { ok: false, problems: loaded.problems, steps: [] };
    }
    const descriptions = loaded.descriptions!;
    this.installSet(loaded.set, descriptions);
    // A reload is also the operator's "try again": units a failure holds down are retried.
    for (const [id, hold] of this.holds) {
      if (hold.reason !== 'failed' && hold.reason !== 'start-limit') continue;
      this.holds.delete(id);
      this.histories.get(id)?.reset();
    }
    this.lastLoadErrors = [];
    for (const p of loaded.problems) this.log('warn', p.unit, p.message);
    this.emitDaemon();
    // The steps are those of the pass that applies the new set (no separate preview: observing
    // twice would double the reaction time). A step that failed makes the reload fail, naming it.
    const report = { after: this.generation, taken: false, steps: [] as PlannedStep[], failures: [] as Problem[] };
    this.reloadReport = report;
    await this.reconcile('unit files loaded');
    if (this.reloadReport === report) this.reloadReport = undefined;
    return { ok: report.failures.length === 0, problems: [...loaded.problems, ...report.failures], steps: report.steps };
  }

  async planReload(): Promise<ReloadOutcome> {
    const loaded = await this.describedLoad();
    if (!loaded.set || hasErrors(loaded.problems)) return { ok: false, problems: loaded.problems, steps: [] };
    return { ok: true, problems: loaded.problems, steps: await this.previewSteps(loaded.set, loaded.descriptions!) };
  }

  /**
   * The unit files loaded and described. Describing reads the machine's files, which can show the
   * unit files wrong (an inline cell configuration of another revision than the system's): such a
   * set is refused like one with load errors, before any of it runs.
   */
  private async describedLoad(): Promise<LoadResult & { descriptions?: Map<string, UnitDescription> }> {
    const loaded = await this.opts.loadUnits();
    if (!loaded.set || hasErrors(loaded.problems)) return loaded;
    // The transaction check `crtosctl validate --root` runs: a set it rejects is never applied.
    const files = hostFiles(this.host);
    const sources = loaded.sources ?? new Map<string, string>();
    const checked = await checkTransaction({ set: loaded.set, sources, machine: files });
    if (hasErrors(checked)) return { problems: [...loaded.problems, ...checked], sources };
    const descriptions = await describeUnits(loaded.set, this.host, loaded.sources, files);
    const errors = unitFileErrors(descriptions);
    if (errors.length > 0) return { problems: [...loaded.problems, ...checked, ...errors], sources };
    return { ...loaded, problems: [...loaded.problems, ...checked], descriptions };
  }

  unitLog(id: string, lines: number): LogLine[] {
    const log = this.runtimes.get(id)?.log ?? [];
    return lines > 0 ? log.slice(-lines) : [...log];
  }

  override on<E extends keyof ManagerEvents>(event: E, listener: (...args: ManagerEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override off<E extends keyof ManagerEvents>(event: E, listener: (...args: ManagerEvents[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  /** Queue a pass (coalesced with one already queued); resolves when it has run. */
  trigger(reason: string): Promise<void> {
    return this.reconcile(reason);
  }

  // ---- the loop ----------------------------------------------------------------------------------

  private reconcile(reason: string): Promise<void> {
    if (this.closed && this.systemState !== 'stopping') return Promise.resolve();
    this.dirty = true;
    if (!this.passPromise) {
      this.passPromise = (async () => {
        try {
          while (this.dirty) {
            this.dirty = false;
            await this.pass(reason);
          }
        } finally {
          this.passPromise = undefined;
        }
      })();
    }
    return this.passPromise;
  }

  private async pass(reason: string): Promise<void> {
    const generation = ++this.generation;
    this.log('debug', undefined, `reconcile: ${reason}`);
    try {
      const targets = this.targets();
      const snap = await this.settledSnapshot(targets);
      this.records.recordFoundLoaders(targets, snap, (unit, message) => this.log('info', unit, message));
      this.supervisor.rememberBackends(snap.backends);
      const observed = observeAll(snap, targets);
      // No unit set was ever accepted (this daemon started on files it refuses): what runs is
      // observed and reported, and nothing is planned against it — with no set, every recorded
      // unit would look removed and be stopped.
      if (this.set) await this.planAndApply(this.set, observed, generation);
      else this.refreshFromObservation(observed, new Map());
    } catch (e) {
      this.log('error', undefined, `reconcile failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.lastReconcile = Date.now() * 1000;
    this.resolveManualJobs(generation);
    const degraded = [...this.runtimes.values()].some((rt) => rt.activeState === 'failed');
    if (this.systemState !== 'stopping') this.systemState = degraded ? 'degraded' : 'running';
    this.emitDaemon();
  }

  private async planAndApply(set: UnitSet, observed: Map<string, Observation>, generation: number): Promise<void> {
    this.watchRecordedLoaders(set, observed);
    this.supervisor.superviseFailures(observed);
    const restarts = new Set(this.restartRequests);
    const reloads = new Map(this.reloadRequests);
    this.restartRequests.clear();
    this.reloadRequests.clear();
    const planNow = () => buildPlan({ set, descriptions: this.descriptions, records: this.records.map, observed, holds: this.holds, restarts, reloads, refused: this.refused });
    let thePlan = planNow();
    // Staged first: a start or reload that would fail before touching the machine (an image that
    // does not verify) is refused, and the plan made again without it, so nothing is taken down for it.
    const refused = thePlan.jobs.length > 0 ? await this.jobs.stage(thePlan, set) : new Map<string, Problem>();
    for (const [id, why] of refused) {
      this.refuseStaged(id, why, observed.get(id));
      restarts.delete(id);
      reloads.delete(id);
    }
    if (refused.size > 0) thePlan = planNow();
    const report = this.reloadReport && !this.reloadReport.taken && generation > this.reloadReport.after ? this.reloadReport : undefined;
    if (report) {
      report.taken = true;
      report.steps = thePlan.steps;
      report.failures = [...refused.values()];
    }
    this.refreshFromObservation(observed, thePlan.blocked);
    if (thePlan.jobs.length === 0) return;
    const outcomes = await this.jobs.applyJobs(thePlan, set, observed);
    const kept = thePlan.jobs.filter((j) => outcomes.get(j.index)?.keptRunning);
    for (const job of kept) this.refused.set(job.unit, this.descriptions.get(job.unit)?.digest ?? '');
    // The units that require one put back were stopped for it: bring them up again.
    if (kept.length > 0) void this.reconcile(`${kept.map((j) => j.unit).join(', ')} kept as before`);
    if (report) report.failures.push(...[...outcomes.values()].flatMap((o) => (o.result === 'done' || o.result === 'skipped' || !o.error ? [] : [o.error])));
    const after = this.targets();
    const snapAfter = await this.snapshot(after);
    this.supervisor.rememberBackends(snapAfter.backends);
    const observedAfter = observeAll(snapAfter, after);
    // What the jobs left is supervised too: a cell already failed when its start returned gets
    // its onFailure now (the poll compares against this observation and would see no change).
    this.supervisor.superviseFailures(observedAfter);
    this.refreshFromObservation(observedAfter, thePlan.blocked);
  }

  /**
   * Loaders an earlier daemon started, found running under the same description: no job adopts
   * them (nothing changed), so they are watched here, like the ones this daemon spawned.
   */
  private watchRecordedLoaders(set: UnitSet, observed: ReadonlyMap<string, Observation>): void {
    for (const [id, rec] of this.records.map) {
      const unit = set.units.get(id);
      if (unit && rec.phase === 'active' && observed.get(id)?.state === 'active') this.jobs.watchRunning(unit, rec.facts);
    }
  }

  /**
   * A start or reload refused while staging: a unit that runs keeps running as it is, its new
   * description refused until it changes; one that does not run follows its restart policy like a
   * failed start.
   */
  private refuseStaged(id: string, why: Problem, obs: Observation | undefined): void {
    const unit = this.set?.units.get(id);
    const digest = this.descriptions.get(id)?.digest ?? '';
    if (!unit) return;
    const rt = this.runtime(id);
    rt.result = 'exit-code';
    rt.lastError = why;
    if (obs?.state === 'active') {
      this.refused.set(id, digest);
      this.log('error', id, `not changed, it keeps running as it is: ${why.message}`);
    } else {
      // A failed cell is retried by reloading it in place, as its onFailure restart does.
      this.supervisor.onStartFailure(unit, digest, why, obs?.state === 'failed');
      this.log('error', id, `not started: ${why.message}`);
      if (this.holds.get(id)?.reason !== 'restart-pending') transition(rt, 'failed', 'failed');
    }
    this.emitUnit(id);
  }

  /**
   * A snapshot taken once the hypervisor is not between two states (a disable or a destroy under
   * way, by crtosd or behind its back), waiting for it with a deadline; past the deadline the pass
   * plans against what it sees, and says so.
   */
  private async settledSnapshot(targets: readonly Target[]): Promise<Snapshot> {
    let snap = await this.snapshot(targets);
    // The cells crtosd runs, by the backend they run on.
    const cells = new Map<string, string[]>();
    for (const r of this.records.map.values()) {
      if (r.phase !== 'active' || r.facts.cellName === undefined) continue;
      const type = r.facts.hypervisorType ?? DEFAULT_BACKEND;
      cells.set(type, [...(cells.get(type) ?? []), r.facts.cellName]);
    }
    const first = hypervisorTransition(snap, cells);
    if (first === undefined) return snap;
    this.log('info', undefined, `the hypervisor may be in transition: ${first.why}; waiting up to ${first.waitMs} ms for it to settle`);
    const deadline = Date.now() + first.waitMs;
    let now: Transition | undefined = first;
    while (now !== undefined && Date.now() < deadline && !this.closed) {
      await new Promise((r) => setTimeout(r, TRANSITION_POLL_MS));
      snap = await this.snapshot(targets);
      now = hypervisorTransition(snap, cells);
    }
    if (now !== undefined) this.log('info', undefined, `acting on what the hypervisor shows after ${first.waitMs} ms: ${now.why}`);
    return snap;
  }

  /** takeSnapshot, looking up by INVOCATION_ID only loaders whose invocation is not settled yet. */
  private snapshot(targets: readonly Target[]): Promise<Snapshot> {
    return takeSnapshot(this.host, targets, { findByInvocation: (t) => !this.records.isSettled(t.facts.invocationId!), ...this.jobs.observeOptions() });
  }

  /** Units in the set (facts: what was applied, else what the files say) and removed recorded units. */
  private targets(): Target[] {
    const out: Target[] = [];
    for (const unit of this.set?.units.values() ?? []) {
      const rec = this.records.map.get(unit.id);
      out.push({ id: unit.id, kind: unit.kind, unit, facts: { ...(this.descriptions.get(unit.id)?.facts ?? {}), ...(rec?.facts ?? {}) } });
    }
    for (const rec of this.records.map.values()) {
      if (!this.set?.units.has(rec.id)) out.push({ id: rec.id, kind: rec.kind, facts: rec.facts });
    }
    return out;
  }

  // ---- state -------------------------------------------------------------------------------------

  private installSet(set: UnitSet, descriptions: Map<string, UnitDescription>): void {
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
        this.supervisor.cancelRestart(id);
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
    for (const id of this.holds.keys()) if (!descriptions.has(id)) this.holds.delete(id);
    for (const id of this.refused.keys()) if (!descriptions.has(id)) this.refused.delete(id);
    for (const unit of set.units.values()) {
      if (!this.runtimes.has(unit.id)) {
        const rt = newRuntime(unit.id, unit.kind, emptyDetails(unit.kind));
        this.unitHistory.restore(rt);
        this.runtimes.set(unit.id, rt);
        this.emit('unitNew', unit.id);
      }
    }
    for (const id of before) if (!set.units.has(id) && !this.records.map.has(id)) this.removeRuntime(id);
    // What the files say (description, source, drop-ins, dependencies) is announced now, not after
    // the pass has looked at the machine: an edit that needs nothing done shows at once.
    for (const unit of set.units.values()) this.emitUnit(unit.id);
  }

  private removeRuntime(id: string): void {
    if (!this.runtimes.delete(id)) return;
    this.lastEmitted.delete(id);
    this.emit('unitRemoved', id);
  }

  private refreshFromObservation(observed: Map<string, Observation>, blocked: Map<string, string>): void {
    for (const [id, obs] of observed) {
      const rt = this.runtime(id, obs);
      rt.details = obs.details;
      if (rt.job) continue;
      const hold = this.holds.get(id);
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
      this.emitUnit(id);
    }
  }

  private runtime(id: string, obs?: Observation): UnitRuntime {
    let rt = this.runtimes.get(id);
    if (!rt) {
      // Every unit the engine acts on is in the set or recorded: anything else is a bug, not a Driver.
      const kind = this.set?.units.get(id)?.kind ?? this.records.map.get(id)?.kind;
      if (kind === undefined) throw new Error(`no runtime for ${id}: it is neither in the unit set nor recorded`);
      rt = newRuntime(id, kind, obs?.details ?? emptyDetails(kind));
      this.unitHistory.restore(rt);
      this.runtimes.set(id, rt);
      this.emit('unitNew', id);
    }
    return rt;
  }

  private history(id: string): StartHistory {
    let h = this.histories.get(id);
    if (!h) this.histories.set(id, (h = new StartHistory()));
    return h;
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

  private async previewSteps(set: UnitSet, descriptions: Map<string, UnitDescription>) {
    const targets: Target[] = [...set.units.values()].map((unit) => ({
      id: unit.id,
      kind: unit.kind,
      unit,
      facts: { ...(descriptions.get(unit.id)?.facts ?? {}), ...(this.records.map.get(unit.id)?.facts ?? {}) },
    }));
    for (const rec of this.records.map.values()) if (!set.units.has(rec.id)) targets.push({ id: rec.id, kind: rec.kind, facts: rec.facts });
    const observed = observeAll(await this.snapshot(targets), targets);
    return buildPlan({ set, descriptions, records: this.records.map, observed, holds: this.holds }).steps;
  }

  // ---- events ------------------------------------------------------------------------------------

  private emitUnit(id: string): void {
    const rt = this.runtimes.get(id);
    if (!rt) return;
    const status = toStatus(rt, this.set);
    const json = JSON.stringify(status);
    if (this.lastEmitted.get(id) === json) return;
    this.lastEmitted.set(id, json);
    this.unitHistory.changed();
    this.emit('unitChanged', status);
  }

  private emitDaemon(): void {
    this.emit('daemonChanged', this.daemon());
  }

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
    this.emit('log', line);
  }

  // ---- manual jobs ---------------------------------------------------------------------------

  private resolveManualJobsFor(unit: string, job: PlanJob, outcome: JobOutcome): void {
    const goal: JobGoal | undefined = job.type === 'stop' ? (job.final ? 'stop' : undefined) : job.type === 'adopt' ? undefined : 'start';
    if (!goal) return;
    for (let i = this.manualJobs.length - 1; i >= 0; i--) {
      const m = this.manualJobs[i]!;
      if (m.info.unit !== unit || m.goal !== goal || m.after > this.generation) continue;
      this.manualJobs.splice(i, 1);
      this.emit('jobRemoved', { ...m.info }, outcome.result);
    }
  }

  private resolveManualJobs(generation: number): void {
    for (let i = this.manualJobs.length - 1; i >= 0; i--) {
      const m = this.manualJobs[i]!;
      if (m.after > generation) continue;
      this.manualJobs.splice(i, 1);
      const rt = this.runtimes.get(m.info.unit);
      let result: JobResult;
      if (m.goal === 'start') {
        result = rt?.activeState === 'active' ? 'done' : rt?.result === 'dependency' ? 'dependency' : rt?.activeState === 'activating' ? 'done' : 'failed';
      } else {
        result = rt === undefined || rt.activeState === 'inactive' || rt.activeState === 'failed' ? 'done' : 'failed';
      }
      this.emit('jobRemoved', { ...m.info }, result);
    }
  }
}

/** `only cells reload (shutdown, load, start)`: the kinds that reload in place, for refusing a reload of another. */
function whoReloads(): string {
  const kinds = behaviourKinds().filter(canReload);
  if (kinds.length === 0) return 'no unit kind reloads';
  const steps = kinds.map((k) => behaviourOf(k).reloadSteps).filter((s): s is string => s !== undefined);
  return `only ${kinds.map((k) => `${k.toLowerCase()}s`).join(' and ')} reload${steps.length > 0 ? ` (${steps.join('; ')})` : ''}`;
}

export type { UnitResult };
