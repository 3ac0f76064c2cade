/**
 * The Manager: one serialized loop of observe → plan → apply, fed by triggers (start, a unit file
 * change, a manual job, a restart timer, a loader exiting, a cell changing state in sysfs). It
 * implements ManagerApi for the D-Bus service, the log and `--once`.
 *
 * Level-triggered: a pass reads the machine and decides from it, the unit set, the state file
 * and a few holds (manual stops, failures not to retry); it never replays events. A restarted
 * daemon therefore converges to the same state and adopts what already runs.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Host, ProcessIdentity } from '../host/host.js';
import type { Unit, UnitSet } from '../units/types.js';
import { hasErrors, isProblemError, problem, ProblemError, type Problem } from '../errors/problem.js';
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
import { BEHAVIOURS, type KindContext, type StopContext, type Target } from './kinds/index.js';
import { describeUnits } from './description.js';
import { observeAll, takeSnapshot } from './observe.js';
import type { Snapshot } from './types.js';
import { plan as buildPlan, type Plan, type PlanJob } from './plan.js';
import { applyPlan, type JobOutcome } from './apply.js';
import { StartHistory, isCleanExit, shouldRestart, type StartLimit } from './supervision.js';
import type { StateStore } from './state-file.js';
import { emptyDetails, newRuntime, toStatus, transition, type UnitRuntime } from './status.js';
import type { AppliedRecord, Hold, Observation, UnitDescription, UnitFacts } from './types.js';

export interface LoadResult {
  set?: UnitSet;
  problems: Problem[];
}

export interface ManagerOptions {
  host: Host;
  /** Reads the unit files; never throws (src/units loadUnits). */
  loadUnits: () => Promise<LoadResult>;
  store: StateStore;
  unitDirectories?: string[];
  version?: string;
  /** How often the sysfs state of cells is polled; 0 turns polling off. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Restart timers and exit watching; off for `--once`. Default true. */
  supervise?: boolean;
  /** Environment every loader starts with (PATH), under its own variables. */
  loaderEnv?: Record<string, string>;
  /** Directory for loader stdout/stderr files (ID.log); none when undefined. */
  logDir?: string;
  /** Jobs run at once at most (each may start a tool process); default 8. */
  maxParallelJobs?: number;
  /**
   * Of those, at most this many that serialize on the Jailhouse driver lock (cells, the
   * hypervisor); enough to have the next command waiting when the lock frees. Default 6.
   */
  maxLockedJobs?: number;
}

const LOG_LINES_PER_UNIT = 200;
const DEFAULT_LIMIT: StartLimit = { burst: 5, interval: 10_000 };

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
  private records = new Map<string, AppliedRecord>();
  private readonly holds = new Map<string, Hold>();
  private readonly restartRequests = new Set<string>();
  private readonly reloadRequests = new Set<string>();
  private readonly runtimes = new Map<string, UnitRuntime>();
  private readonly histories = new Map<string, StartHistory>();
  private readonly lastEmitted = new Map<string, string>();
  private readonly manualJobs: ManualJob[] = [];
  private readonly watchedProcesses = new Set<string>();
  /** Loaders we are stopping: their exit is not a failure. */
  private readonly stopping = new Set<string>();
  /** Cells whose `failed` state was already handled by their onFailure policy. */
  private readonly handledFailures = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastLoadErrors: Problem[] = [];
  private lastReconcile = 0;
  private systemState: DaemonStatus['systemState'] = 'starting';
  private nextJobId = 1;
  private generation = 0;
  private passPromise: Promise<void> | undefined;
  private dirty = false;
  private closed = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollBusy = false;
  /** What the last pass saw of the cells, for the poll to compare against. */
  private pollEnabled = false;
  private pollCells: { id: number; state: string }[] = [];
  /**
   * Loader invocation ids this daemon spawned or already looked up in /proc: only an id from the
   * state file that was never looked up can belong to a process whose PID went unrecorded.
   */
  private readonly settledInvocations = new Set<string>();
  /** Set by reload(): the first pass after it records its planned steps here. */
  private stepsOfNextPass: PlannedStep[] | undefined;

  constructor(opts: ManagerOptions) {
    super();
    this.opts = opts;
    this.host = opts.host;
    this.setMaxListeners(100);
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /** Loads the unit files and the state file, converges once, then keeps watching. */
  async start(): Promise<ReloadOutcome> {
    const loaded = this.opts.store.load();
    this.records = loaded.records;
    if (loaded.problem) this.log('warn', undefined, loaded.problem.message);
    const outcome = await this.reload();
    if (!outcome.ok && !this.set) {
      // Nothing to apply yet; still observe what runs (re-adopted from the state file).
      await this.reconcile('start');
    }
    this.startPolling();
    return outcome;
  }

  /** Stops timers and watchers; touches nothing on the machine. */
  close(): void {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
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
    return !this.passPromise && this.timers.size === 0;
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
    if (type === 'reload' && unit.kind !== 'Cell') {
      throw new ProblemError(problem('ENGINE_BAD_JOB', `${id} cannot be reloaded: only cells reload (shutdown, load, start)`, { unit: id, hint: 'use restart' }));
    }
    const info: JobInfo = { id: this.nextJobId++, unit: id, type, state: 'waiting' };
    if (type === 'stop') {
      this.holds.set(id, { reason: 'stopped' });
      this.restartRequests.delete(id);
      this.reloadRequests.delete(id);
    } else {
      this.liftHolds(id);
      this.histories.get(id)?.reset();
      if (type === 'restart') this.restartRequests.add(id);
      if (type === 'reload') this.reloadRequests.add(id);
    }
    this.manualJobs.push({ info, goal: type === 'stop' ? 'stop' : 'start', after: this.generation + 1 });
    this.emit('jobNew', { ...info });
    this.trigger(`${type} ${id} requested`);
    return { ...info };
  }

  async reload(): Promise<ReloadOutcome> {
    const loaded = await this.opts.loadUnits();
    if (!loaded.set || hasErrors(loaded.problems)) {
      this.lastLoadErrors = loaded.problems;
      this.log('error', undefined, `unit files have ${loaded.problems.length} problem(s); keeping the last good set`);
      for (const p of loaded.problems) this.log('error', p.unit, `${p.file ? `${p.file}:${p.line ?? 0}: ` : ''}${p.message}`);
      this.emitDaemon();
      return { ok: false, problems: loaded.problems, steps: [] };
    }
    const descriptions = await describeUnits(loaded.set, this.host);
    this.installSet(loaded.set, descriptions);
    this.lastLoadErrors = [];
    for (const p of loaded.problems) this.log('warn', p.unit, p.message);
    this.emitDaemon();
    // The steps are those of the pass that applies the new set (no separate preview: observing
    // twice would double the reaction time).
    this.stepsOfNextPass = [];
    await this.reconcile('unit files loaded');
    const steps = this.stepsOfNextPass ?? [];
    this.stepsOfNextPass = undefined;
    return { ok: true, problems: loaded.problems, steps };
  }

  async planReload(): Promise<ReloadOutcome> {
    const loaded = await this.opts.loadUnits();
    if (!loaded.set || hasErrors(loaded.problems)) return { ok: false, problems: loaded.problems, steps: [] };
    const descriptions = await describeUnits(loaded.set, this.host);
    return { ok: true, problems: loaded.problems, steps: await this.previewSteps(loaded.set, descriptions) };
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
      const snap = await this.snapshot(targets);
      this.recordFoundLoaders(targets, snap);
      this.rememberCells(snap.jailhouse);
      const observed = observeAll(snap, targets);
      this.superviseCells(observed);
      const set = this.set ?? emptySet();
      const thePlan = buildPlan({
        set,
        descriptions: this.descriptions,
        records: this.records,
        observed,
        holds: this.holds,
        restarts: this.restartRequests,
        reloads: this.reloadRequests,
      });
      this.restartRequests.clear();
      this.reloadRequests.clear();
      if (this.stepsOfNextPass && this.stepsOfNextPass.length === 0) this.stepsOfNextPass.push(...thePlan.steps);
      this.refreshFromObservation(observed, thePlan.blocked);
      if (thePlan.jobs.length > 0) {
        await this.applyJobs(thePlan, set, observed);
        const after = this.targets();
        const snapAfter = await this.snapshot(after);
        this.rememberCells(snapAfter.jailhouse);
        this.refreshFromObservation(observeAll(snapAfter, after), thePlan.blocked);
      }
    } catch (e) {
      this.log('error', undefined, `reconcile failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.lastReconcile = Date.now() * 1000;
    this.resolveManualJobs(generation);
    const degraded = [...this.runtimes.values()].some((rt) => rt.activeState === 'failed');
    if (this.systemState !== 'stopping') this.systemState = degraded ? 'degraded' : 'running';
    this.emitDaemon();
  }

  /** takeSnapshot, looking up by INVOCATION_ID only loaders whose invocation is not settled yet. */
  private snapshot(targets: readonly Target[]): Promise<Snapshot> {
    return takeSnapshot(this.host, targets, { findByInvocation: (t) => !this.settledInvocations.has(t.facts.invocationId!) });
  }

  /**
   * A loader recorded 'starting' with an invocation id but no PID: the last daemon died between the
   * spawn and recording it. If the snapshot found its process by INVOCATION_ID, record PID and start
   * time now, so the plan adopts it (or stops it, when it must go) rather than starting a second one.
   */
  private recordFoundLoaders(targets: readonly Target[], snap: Snapshot): void {
    for (const t of targets) {
      const invocationId = t.facts.invocationId;
      if (t.kind !== 'Loader' || t.facts.pid !== undefined || invocationId === undefined || this.settledInvocations.has(invocationId)) continue;
      this.settledInvocations.add(invocationId);
      const rec = this.records.get(t.id);
      const proc = snap.processes.get(t.id);
      if (!rec || !proc) continue;
      this.records.set(t.id, { ...rec, facts: { ...rec.facts, pid: proc.pid, startTime: proc.startTime }, updated: Date.now() });
      this.persist();
      this.log('info', t.id, `found process ${proc.pid} by INVOCATION_ID ${invocationId}, started before the daemon restarted; not starting another`);
    }
  }

  /** Units in the set (facts: what was applied, else what the files say) and removed recorded units. */
  private targets(): Target[] {
    const out: Target[] = [];
    for (const unit of this.set?.units.values() ?? []) {
      const rec = this.records.get(unit.id);
      out.push({ id: unit.id, kind: unit.kind, unit, facts: { ...(this.descriptions.get(unit.id)?.facts ?? {}), ...(rec?.facts ?? {}) } });
    }
    for (const rec of this.records.values()) {
      if (!this.set?.units.has(rec.id)) out.push({ id: rec.id, kind: rec.kind, facts: rec.facts });
    }
    return out;
  }

  private async applyJobs(thePlan: Plan, set: UnitSet, observed: Map<string, Observation>): Promise<void> {
    const jobInfos = new Map<number, JobInfo>();
    await applyPlan(thePlan, {
      maxParallel: this.opts.maxParallelJobs ?? 8,
      requiresOf: (id) => set.deps.get(id)?.requires ?? [],
      cost: (job) => jobCost(job, set),
      lockGroup: (job) => lockGroupOf(job, set, this.records),
      maxPerLockGroup: this.opts.maxLockedJobs ?? 6,
      onStart: (job) => {
        if (job.type === 'adopt') return;
        const info: JobInfo = { id: this.nextJobId++, unit: job.unit, type: job.type === 'stop' ? 'stop' : job.type === 'reload' ? 'reload' : 'start', state: 'running' };
        jobInfos.set(job.index, info);
        this.emit('jobNew', { ...info });
        const rt = this.runtime(job.unit);
        rt.job = info;
        if (job.type === 'stop') transition(rt, 'deactivating', 'stop');
        else if (job.type === 'reload') transition(rt, 'reloading', 'reload');
        else transition(rt, 'activating', 'start');
        this.log('info', job.unit, `${job.type}: ${job.reason}`);
        this.emitUnit(job.unit);
      },
      onDone: (job, outcome) => {
        const info = jobInfos.get(job.index);
        const rt = this.runtimes.get(job.unit);
        if (rt && rt.job && info && rt.job.id === info.id) delete rt.job;
        if (info) this.emit('jobRemoved', { ...info, state: 'running' }, outcome.result);
        if (outcome.result === 'dependency' && !info) {
          // Skipped without running: announce it like systemd does (a job that ended in dependency).
          const skipped: JobInfo = { id: this.nextJobId++, unit: job.unit, type: 'start', state: 'waiting' };
          this.emit('jobNew', { ...skipped });
          this.emit('jobRemoved', skipped, 'dependency');
        }
        this.afterJob(job, outcome);
      },
      run: (job) => this.runJob(job, set, observed),
    });
  }

  private async runJob(job: PlanJob, set: UnitSet, observed: Map<string, Observation>): Promise<JobOutcome> {
    switch (job.type) {
      case 'adopt':
        return this.adopt(job.unit, observed.get(job.unit));
      case 'stop':
        return this.runStop(job.unit, job.final === true);
      case 'start':
      case 'reload':
        return this.runStart(job.unit, set, job.type === 'reload');
    }
  }

  private adopt(id: string, obs: Observation | undefined): JobOutcome {
    const unit = this.set?.units.get(id);
    const desc = this.descriptions.get(id);
    if (!unit || !desc) return { result: 'skipped' };
    const prev = this.records.get(id);
    const facts: UnitFacts = { ...desc.facts, ...(prev?.facts ?? {}) };
    if (unit.kind === 'Cell') Object.assign(facts, { cellName: prev?.facts.cellName ?? desc.facts.cellName, cpus: desc.facts.cpus });
    this.writeRecord(unit, desc, facts, 'active');
    if (unit.kind === 'Loader' && facts.pid !== undefined && facts.startTime !== undefined) this.watchLoader(id, { pid: facts.pid, startTime: facts.startTime });
    if (!prev) this.log('info', id, `found ${obs?.subState ?? 'running'}; adopted without restarting it`);
    return { result: 'done' };
  }

  private async runStart(id: string, set: UnitSet, reload: boolean): Promise<JobOutcome> {
    const unit = set.units.get(id);
    const desc = this.descriptions.get(id);
    if (!unit || !desc) return { result: 'skipped' };
    const limit = startLimitOf(unit);
    const history = this.history(id);
    if (limit && !history.tryStart(Date.now(), limit)) {
      this.holds.set(id, { reason: 'start-limit' });
      return {
        result: 'failed',
        unitResult: 'start-limit-hit',
        error: problem('ENGINE_START_LIMIT', `started ${limit.burst} times within ${limit.interval} ms; not starting it again`, {
          unit: id,
          hint: `fix the cause, then \`crtosctl start ${id}\` (or raise startLimit)`,
        }),
      };
    }
    const prevFacts = this.records.get(id)?.facts ?? {};
    let startingFacts: UnitFacts = { ...desc.facts, ...prevFacts };
    let invocationId: string | undefined;
    if (unit.kind === 'Loader') {
      // A fresh invocation id, recorded before the spawn and without the previous (gone) process:
      // a daemon killed before the 'active' record finds this process by it (recordFoundLoaders).
      invocationId = randomBytes(16).toString('hex');
      this.settledInvocations.add(invocationId);
      const { pid: _pid, startTime: _startTime, ...rest } = startingFacts;
      startingFacts = { ...rest, invocationId };
    }
    this.writeRecord(unit, desc, startingFacts, 'starting');
    const behaviour = BEHAVIOURS[unit.kind];
    const ctx = { ...this.kindContext(id, set, desc), ...(invocationId ? { invocationId } : {}) };
    try {
      const facts = reload && behaviour.reload ? await behaviour.reload(unit, ctx) : await behaviour.start(unit, ctx);
      this.writeRecord(unit, desc, { ...desc.facts, ...facts }, 'active');
      if (unit.kind === 'Loader' && facts.pid !== undefined && facts.startTime !== undefined) {
        const rt = this.runtime(id);
        rt.details = { kind: 'Loader', pid: facts.pid, exitCode: 0, exitSignal: '', restarts: rt.restarts };
        this.watchLoader(id, { pid: facts.pid, startTime: facts.startTime });
      }
      return { result: 'done' };
    } catch (e) {
      const err = toProblem(e, id, 'ENGINE_START_FAILED');
      const timedOut = err.code === 'ENGINE_TIMEOUT';
      await this.cleanupAfterFailedStart(unit, desc);
      this.onStartFailure(unit, desc, err);
      if (this.holds.get(id)?.reason === 'start-limit') {
        // The restart policy gave up: say so rather than the last attempt's own result.
        const rt = this.runtime(id);
        return { result: 'failed', unitResult: 'start-limit-hit', ...(rt.lastError ? { error: rt.lastError } : { error: err }) };
      }
      return { result: timedOut ? 'timeout' : 'failed', unitResult: timedOut ? 'timeout' : 'exit-code', error: err };
    }
  }

  /** Nothing half-made is left: a failed start is taken down again (cells destroyed, CPUs back). */
  private async cleanupAfterFailedStart(unit: Unit, desc: UnitDescription): Promise<void> {
    const rec = this.records.get(unit.id);
    const target: Target = { id: unit.id, kind: unit.kind, unit, facts: { ...desc.facts, ...(rec?.facts ?? {}) } };
    try {
      await BEHAVIOURS[unit.kind].stop(target, this.stopContext(unit.id));
      this.deleteRecord(unit.id);
    } catch (e) {
      // The record stays ('starting'): the next pass sees the unit half-made and cleans up again.
      this.log('warn', unit.id, `cleaning up after the failed start failed: ${toProblem(e, unit.id, 'ENGINE_STOP_FAILED').message}`);
    }
  }

  /** What happens after a failed start: the unit's restart policy, else it stays failed. */
  private onStartFailure(unit: Unit, desc: UnitDescription, err: Problem): void {
    const policy = restartPolicyOf(unit);
    if (policy && policy.onStartFailure && this.scheduleRestart(unit, 'start failed', err)) return;
    this.holds.set(unit.id, { reason: 'failed', digest: desc.digest });
  }

  private async runStop(id: string, final: boolean): Promise<JobOutcome> {
    const rec = this.records.get(id);
    const unit = this.set?.units.get(id);
    const desc = this.descriptions.get(id);
    const kind = unit?.kind ?? rec?.kind;
    if (!kind) return { result: 'skipped' };
    const target: Target = { id, kind, ...(unit ? { unit } : {}), facts: { ...(desc?.facts ?? {}), ...(rec?.facts ?? {}) } };
    this.stopping.add(id);
    try {
      await BEHAVIOURS[kind].stop(target, this.stopContext(id));
      this.deleteRecord(id);
      return { result: 'done' };
    } catch (e) {
      return { result: 'failed', unitResult: 'exit-code', error: toProblem(e, id, 'ENGINE_STOP_FAILED') };
    } finally {
      this.stopping.delete(id);
      void final;
    }
  }

  private afterJob(job: PlanJob, outcome: JobOutcome): void {
    const rt = this.runtime(job.unit);
    if (outcome.result === 'done') {
      if (job.type === 'start' || job.type === 'reload') {
        // A new run: its failure is a new failure for the onFailure policy.
        this.handledFailures.delete(job.unit);
        rt.result = 'success';
        delete rt.lastError;
        const unit = this.set?.units.get(job.unit);
        transition(rt, 'active', unit ? BEHAVIOURS[unit.kind].activeSubState(unit) : 'running');
        this.log('info', job.unit, job.type === 'reload' ? 'reloaded' : 'started');
      } else if (job.type === 'stop') {
        transition(rt, 'inactive', 'dead');
        this.log('info', job.unit, 'stopped');
        if (!this.set?.units.has(job.unit)) this.removeRuntime(job.unit);
      }
    } else if (outcome.result !== 'skipped') {
      rt.result = outcome.unitResult ?? 'exit-code';
      if (outcome.error) rt.lastError = outcome.error;
      const pending = this.holds.get(job.unit)?.reason === 'restart-pending';
      if (pending) transition(rt, 'activating', 'auto-restart');
      else transition(rt, 'failed', 'failed');
      this.log(outcome.result === 'dependency' ? 'warn' : 'error', job.unit, `${job.type} ${outcome.result}: ${outcome.error?.message ?? ''}`);
    }
    this.emitUnit(job.unit);
    this.resolveManualJobsFor(job.unit, job, outcome);
  }

  // ---- supervision -----------------------------------------------------------------------------

  /** A cell found `failed`: its onFailure policy, once per failure. */
  private superviseCells(observed: Map<string, Observation>): void {
    for (const [id, obs] of observed) {
      const unit = this.set?.units.get(id);
      if (!unit || unit.kind !== 'Cell') continue;
      if (obs.state !== 'failed') {
        this.handledFailures.delete(id);
        continue;
      }
      if (this.handledFailures.has(id) || !this.records.has(id)) continue;
      this.handledFailures.add(id);
      const err = problem('ENGINE_CELL_FAILED', `cell ${obs.details.kind === 'Cell' ? obs.details.jailhouseState : ''} (failed CPUs: ${obs.details.kind === 'Cell' ? obs.details.failedCpus.join(',') || 'none' : ''})`, { unit: id });
      const rt = this.runtime(id);
      rt.result = 'exit-code';
      rt.lastError = err;
      this.log('error', id, `entered failed state; onFailure: ${unit.spec.onFailure}`);
      if (unit.spec.onFailure === 'restart') {
        if (!this.scheduleRestart(unit, 'cell failed', err, true)) transition(rt, 'failed', 'failed');
      } else if (unit.spec.onFailure === 'stop') {
        this.holds.set(id, { reason: 'stopped' });
      }
    }
  }

  /**
   * Schedules an automatic restart after the back-off delay, unless the start limit forbids it
   * (then the unit is held with start-limit-hit). Returns whether a restart was scheduled.
   */
  private scheduleRestart(unit: Unit, why: string, err: Problem, reload = false): boolean {
    const policy = restartPolicyOf(unit);
    if (!policy || this.opts.supervise === false || this.closed) return false;
    const history = this.history(unit.id);
    const rt = this.runtime(unit.id);
    const limit = startLimitOf(unit) ?? DEFAULT_LIMIT;
    const delay = history.nextDelay(policy.restartSec, policy.restartMaxSec);
    if (!history.allowed(Date.now() + delay, limit)) {
      this.holds.set(unit.id, { reason: 'start-limit' });
      rt.result = 'start-limit-hit';
      rt.lastError = problem('ENGINE_START_LIMIT', `${why} (${err.message}); start limit of ${limit.burst} starts in ${limit.interval} ms reached, not restarting`, { unit: unit.id, hint: `fix the cause, then \`crtosctl start ${unit.id}\`` });
      this.log('error', unit.id, rt.lastError.message);
      transition(rt, 'failed', 'failed');
      this.emitUnit(unit.id);
      return true;
    }
    this.holds.set(unit.id, { reason: 'restart-pending' });
    rt.restarts++;
    transition(rt, 'activating', 'auto-restart');
    this.log('warn', unit.id, `${why}; restarting in ${delay} ms`);
    this.emitUnit(unit.id);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.holds.get(unit.id)?.reason !== 'restart-pending') return;
      this.holds.delete(unit.id);
      if (reload) this.reloadRequests.add(unit.id);
      void this.reconcile(`restart ${unit.id}`);
    }, delay);
    this.timers.add(timer);
    return true;
  }

  private watchLoader(id: string, proc: ProcessIdentity): void {
    const key = `${id}:${proc.pid}:${proc.startTime}`;
    if (this.watchedProcesses.has(key) || this.opts.supervise === false) return;
    this.watchedProcesses.add(key);
    void this.host.waitExit(proc).then((exit) => {
      this.watchedProcesses.delete(key);
      if (this.closed) return;
      const rec = this.records.get(id);
      if (!rec || rec.facts.pid !== proc.pid || rec.facts.startTime !== proc.startTime) return; // replaced or stopped
      if (this.stopping.has(id)) return;
      this.deleteRecord(id);
      const unit = this.set?.units.get(id);
      const rt = this.runtime(id);
      rt.exitCode = exit.code ?? -1;
      rt.exitSignal = exit.signal ?? '';
      const clean = isCleanExit(exit);
      const how = exit.signal ? `killed by ${exit.signal}` : exit.code === null ? 'gone (exit status unknown)' : `exited with code ${exit.code}`;
      const err = problem('ENGINE_PROCESS_EXITED', `process ${proc.pid} ${how}`, { unit: id });
      rt.result = clean ? 'success' : exit.signal ? 'signal' : 'exit-code';
      if (!clean) rt.lastError = err;
      this.log(clean ? 'info' : 'error', id, `process ${proc.pid} ${how}`);
      if (unit && unit.kind === 'Loader' && shouldRestart(unit.spec.restart, exit)) {
        this.scheduleRestart(unit, `process ${how}`, err);
      } else if (unit) {
        this.holds.set(id, clean ? { reason: 'exited' } : { reason: 'failed', digest: this.descriptions.get(id)?.digest ?? '' });
        transition(rt, clean ? 'inactive' : 'failed', clean ? 'dead' : 'failed');
      }
      this.emitUnit(id);
      void this.reconcile(`${id} exited`);
    });
  }

  private startPolling(): void {
    const interval = this.opts.pollIntervalMs ?? 1000;
    if (interval <= 0 || this.opts.supervise === false) return;
    this.pollTimer = setInterval(() => void this.poll(), interval);
    this.pollTimer.unref?.();
  }

  /**
   * The cheap watch between passes: only the `state` file of each cell the last pass saw (one
   * small sysfs read per cell), plus `enabled`; any difference starts a full pass.
   */
  private async poll(): Promise<void> {
    if (this.pollBusy || this.passPromise || this.closed) return;
    this.pollBusy = true;
    try {
      const [enabled, ...states] = await Promise.all([
        this.host.readFile('/sys/devices/jailhouse/enabled').then((b) => b.toString().trim() === '1', () => false),
        ...this.pollCells.map((c) =>
          this.host.readFile(`/sys/devices/jailhouse/cells/${c.id}/state`).then(
            (b) => b.toString().replace(/\n$/, ''),
            () => '',
          ),
        ),
      ]);
      const changed = enabled !== this.pollEnabled || this.pollCells.some((c, i) => states[i] !== c.state);
      if (changed) void this.reconcile('cell states changed');
    } catch {
      // The next poll tries again; a pass reports real read errors.
    } finally {
      this.pollBusy = false;
    }
  }

  private rememberCells(jailhouse: { enabled: boolean; cells: { id: number; name: string; state: string }[] }): void {
    this.pollEnabled = jailhouse.enabled;
    this.pollCells = jailhouse.cells.filter((c) => c.id !== 0).map((c) => ({ id: c.id, state: c.state }));
  }

  // ---- state -------------------------------------------------------------------------------------

  private installSet(set: UnitSet, descriptions: Map<string, UnitDescription>): void {
    // An edited unit is a new unit: a fresh start limit, and a failure, a start-limit hit or a
    // clean exit of the old description no longer keeps it down. Manual stops stay.
    for (const [id, desc] of descriptions) {
      const before = this.descriptions.get(id);
      if (!before || before.digest === desc.digest) continue;
      this.histories.get(id)?.reset();
      const hold = this.holds.get(id);
      if (hold && (hold.reason === 'failed' || hold.reason === 'start-limit' || hold.reason === 'exited')) {
        this.holds.delete(id);
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
    for (const unit of set.units.values()) {
      if (!this.runtimes.has(unit.id)) {
        this.runtimes.set(unit.id, newRuntime(unit.id, unit.kind, emptyDetails(unit.kind)));
        this.emit('unitNew', unit.id);
      }
    }
    for (const id of before) if (!set.units.has(id) && !this.records.has(id)) this.removeRuntime(id);
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
      } else if (obs.state === 'failed') transition(rt, 'failed', obs.subState);
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
      const kind = this.set?.units.get(id)?.kind ?? this.records.get(id)?.kind ?? 'Driver';
      rt = newRuntime(id, kind, obs?.details ?? emptyDetails(kind));
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

  private writeRecord(unit: Unit, desc: UnitDescription, facts: UnitFacts, phase: AppliedRecord['phase']): void {
    const deps = this.set?.deps.get(unit.id);
    this.records.set(unit.id, {
      id: unit.id,
      kind: unit.kind,
      digest: desc.digest,
      fields: desc.fields,
      facts,
      after: deps ? [...new Set([...deps.after, ...deps.requires, ...deps.wants])] : [],
      requires: deps?.requires ?? [],
      phase,
      updated: Date.now(),
    });
    this.persist();
  }

  private deleteRecord(id: string): void {
    if (this.records.delete(id)) this.persist();
  }

  private persist(): void {
    try {
      this.opts.store.save(this.records);
    } catch (e) {
      this.log('error', undefined, `cannot write the state file: ${(e as Error).message}`);
    }
  }

  private async previewSteps(set: UnitSet, descriptions: Map<string, UnitDescription>) {
    const targets: Target[] = [...set.units.values()].map((unit) => ({
      id: unit.id,
      kind: unit.kind,
      unit,
      facts: { ...(descriptions.get(unit.id)?.facts ?? {}), ...(this.records.get(unit.id)?.facts ?? {}) },
    }));
    for (const rec of this.records.values()) if (!set.units.has(rec.id)) targets.push({ id: rec.id, kind: rec.kind, facts: rec.facts });
    const observed = observeAll(await this.snapshot(targets), targets);
    return buildPlan({ set, descriptions, records: this.records, observed, holds: this.holds }).steps;
  }

  // ---- contexts --------------------------------------------------------------------------------

  private kindContext(id: string, set: UnitSet, desc: UnitDescription): KindContext {
    if (this.opts.logDir) {
      try {
        mkdirSync(this.opts.logDir, { recursive: true });
      } catch (e) {
        this.log('warn', id, `cannot create ${this.opts.logDir}: ${(e as Error).message}`);
      }
    }
    return {
      host: this.host,
      set,
      desc,
      timed: (p, ms, what) => this.timed(id, p, ms, what),
      sleep,
      baseEnv: this.opts.loaderEnv ?? { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
      ...(this.opts.logDir ? { logFile: join(this.opts.logDir, `${id}.log`) } : {}),
      log: (message) => this.log('info', id, message),
    };
  }

  private stopContext(id: string): StopContext {
    return { host: this.host, timed: (p, ms, what) => this.timed(id, p, ms, what), sleep, log: (message) => this.log('warn', id, message) };
  }

  /**
   * A host operation with a deadline. The operation itself cannot be cancelled (the host kills a
   * hung tool after its own limit); when it settles late, a pass looks at what it left behind.
   */
  private timed<T>(id: string, p: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(new ProblemError(problem('ENGINE_TIMEOUT', `${what} did not finish within ${ms} ms`, { unit: id, hint: 'raise the unit\'s `timeout` if the machine is just slow' })));
      }, ms);
      p.then(
        (v) => {
          clearTimeout(timer);
          if (late) void this.reconcile(`${what} of ${id} finished late`);
          else resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          if (late) void this.reconcile(`${what} of ${id} failed late`);
          else reject(e);
        },
      );
    });
  }

  // ---- events ------------------------------------------------------------------------------------

  private emitUnit(id: string): void {
    const rt = this.runtimes.get(id);
    if (!rt) return;
    const status = toStatus(rt, this.set);
    const json = JSON.stringify(status);
    if (this.lastEmitted.get(id) === json) return;
    this.lastEmitted.set(id, json);
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

// ---- helpers -------------------------------------------------------------------------------------

/**
 * Tool runs a job takes, for the launch order: a cell's start or reload is three jailhouse
 * commands in a row (create or shutdown, load, start), each behind the driver's one-at-a-time
 * lock, so cells go before work that can fill in around them.
 */
/** Cells and hypervisors run jailhouse commands, which hold the driver's lock one at a time. */
function lockGroupOf(job: PlanJob, set: UnitSet, records: Map<string, AppliedRecord>): string | undefined {
  if (job.type === 'adopt') return undefined;
  const kind = set.units.get(job.unit)?.kind ?? records.get(job.unit)?.kind;
  return kind === 'Cell' || kind === 'Hypervisor' ? 'jailhouse' : undefined;
}

function jobCost(job: PlanJob, set: UnitSet): number {
  if (job.type === 'adopt') return 0;
  if (job.type === 'stop') return 1;
  const kind = set.units.get(job.unit)?.kind;
  if (kind === 'Cell') return 3;
  if (kind === 'Image') return 0;
  return 1;
}

function emptySet(): UnitSet {
  return { units: new Map(), deps: new Map(), layers: [], directories: [] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function toProblem(e: unknown, unit: string, code: 'ENGINE_START_FAILED' | 'ENGINE_STOP_FAILED'): Problem {
  if (isProblemError(e)) return e.problems[0] ?? problem(code, e.message, { unit });
  if (e instanceof Error && 'toProblem' in e && typeof (e as { toProblem: unknown }).toProblem === 'function') {
    const p = (e as unknown as { toProblem(x: { unit: string }): Problem }).toProblem({ unit });
    return { ...p, code };
  }
  return problem(code, e instanceof Error ? e.message : String(e), { unit });
}

function startLimitOf(unit: Unit): StartLimit | undefined {
  if (unit.kind === 'Loader' || unit.kind === 'Cell') return unit.spec.startLimit;
  return undefined;
}

interface RestartPolicy {
  restartSec: number;
  restartMaxSec: number;
  onStartFailure: boolean;
}

function restartPolicyOf(unit: Unit): RestartPolicy | undefined {
  if (unit.kind === 'Loader' && unit.spec.restart !== 'no') {
    return { restartSec: unit.spec.restartSec, restartMaxSec: unit.spec.restartMaxSec, onStartFailure: true };
  }
  if (unit.kind === 'Cell' && unit.spec.onFailure === 'restart') {
    return { restartSec: unit.spec.restartSec, restartMaxSec: unit.spec.restartMaxSec, onStartFailure: true };
  }
  return undefined;
}


export type { UnitResult };
