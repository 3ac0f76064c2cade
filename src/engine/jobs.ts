/**
 * Running a pass's jobs: launching them through applyPlan (parallel, dependency- and lock-aware),
 * starting, reloading, stopping and adopting one unit through its kind's behaviour, recording what
 * was applied, and turning each outcome into the unit's runtime state and job events.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Host } from '../host/host.js';
import type { Unit, UnitSet } from '../units/types.js';
import { isProblemError, problem, type Problem } from '../errors/problem.js';
import type { JobInfo } from './manager-api.js';
import { behaviourOf, type KindContext, type StopContext, type Target } from '../kinds/behaviours.js';
import { RolledBackError, StagingError } from '../kinds/behaviour-common.js';
import type { Plan, PlanJob } from './plan.js';
import { applyPlan, type JobOutcome } from './apply.js';
import { startLimitOf, type Supervisor } from './supervisor.js';
import { emptyDetails, transition } from './status.js';
import type { AppliedRecord, Observation, UnitDescription, UnitFacts } from './types.js';
import type { UnitTable } from './unit-table.js';
import type { ManualJobs } from './manual-jobs.js';
import { ToolRuns } from './tool-runs.js';
import { InterfaceProbe, type SnapshotOptions } from './observe.js';
import { beginBringUp, recordingHost } from './timeline.js';
import { inTurns } from './turns.js';

/** What the job runner needs from the Manager. */
export interface JobRunnerContext {
  readonly host: Host;
  /** Jobs run at once at most. */
  readonly maxParallelJobs: number;
  /** Of those, at most this many of one lock group (Backend.lockGroup: the Jailhouse driver lock). */
  readonly maxLockedJobs: number;
  /** Directory for process units' stdout/stderr files (ID.log); none when undefined. */
  readonly logDir: string | undefined;
  /** Environment every process unit (loader) starts with, under its own variables. */
  readonly loaderEnv: Record<string, string> | undefined;
  /** The units: set, descriptions, records, runtimes, holds, histories, announcements, job events. */
  readonly table: UnitTable;
  readonly supervisor: Supervisor;
  /** The manual jobs a job's outcome answers. */
  readonly manualJobs: ManualJobs;
  reconcile(reason: string): Promise<void>;
}

export class JobRunner {
  /** Records of units stopped to be started again in the running plan, until their start runs. */
  private readonly stoppedToReplace = new Map<string, AppliedRecord>();
  /** Every tool a job or observation runs: bounded, killed at its deadline, recorded while it runs. */
  private readonly tools: ToolRuns;
  private readonly probe: InterfaceProbe;

  constructor(private readonly ctx: JobRunnerContext) {
    this.tools = new ToolRuns({
      host: ctx.host,
      store: ctx.table.records.toolRuns,
      log: (level, unit, message) => ctx.table.log(level, unit, message),
      reconcile: (reason) => ctx.reconcile(reason),
    });
    this.probe = new InterfaceProbe({
      runs: (deadline) => this.tools.observer(undefined, deadline),
      warn: (units, message) => units.forEach((unit) => ctx.table.log('warn', unit, message)),
    });
  }

  /**
   * What observation needs from the job runner: the bounded, recorded `ip addr show`, and, before
   * a restarted daemon first reads the machine, the tools its predecessor left running settled.
   */
  observeOptions(): Pick<SnapshotOptions, 'interfaces' | 'before'> {
    return { interfaces: this.probe, before: () => this.tools.settlePrevious() };
  }

  /** Runs the plan's jobs; resolves with each job's outcome by its index. */
  async applyJobs(thePlan: Plan, set: UnitSet, observed: Map<string, Observation>): Promise<Map<number, JobOutcome>> {
    const { ctx } = this;
    const jobInfos = new Map<number, JobInfo>();
    const outcomes = await applyPlan(thePlan, {
      maxParallel: ctx.maxParallelJobs,
      requiresOf: (id) => set.deps.get(id)?.requires ?? [],
      cost: (job) => jobCost(job, set),
      lockGroup: (job) => lockGroupOf(job, set, ctx.table.records.map, (id) => ctx.table.description(id)),
      maxPerLockGroup: ctx.maxLockedJobs,
      onStart: (job) => {
        if (job.type === 'adopt') return;
        const info: JobInfo = { id: ctx.table.newJobId(), unit: job.unit, type: job.type === 'stop' ? 'stop' : job.type === 'reload' ? 'reload' : 'start', state: 'running' };
        jobInfos.set(job.index, info);
        ctx.table.jobNew({ ...info });
        const rt = ctx.table.runtime(job.unit);
        rt.job = info;
        beginBringUp(rt, info);
        if (job.type === 'stop') transition(rt, 'deactivating', 'stop');
        else if (job.type === 'reload') transition(rt, 'reloading', 'reload');
        else transition(rt, 'activating', 'start');
        ctx.table.log('info', job.unit, `${job.type}: ${job.reason}`);
        ctx.table.announce(job.unit);
      },
      onDone: (job, outcome) => {
        const info = jobInfos.get(job.index);
        const rt = ctx.table.existingRuntime(job.unit);
        if (rt && rt.job && info && rt.job.id === info.id) delete rt.job;
        // The unit's new state first, then the job's end: a client that acts on JobRemoved (as
        // systemctl does) must read the state the job left, as systemd guarantees.
        this.afterJob(job, outcome);
        if (info) ctx.table.jobRemoved({ ...info, state: 'running' }, outcome.result);
        if (outcome.result === 'dependency' && !info) {
          // Skipped without running: announce it like systemd does (a job that ended in dependency).
          const skipped: JobInfo = { id: ctx.table.newJobId(), unit: job.unit, type: 'start', state: 'waiting' };
          ctx.table.jobNew({ ...skipped });
          ctx.table.jobRemoved(skipped, 'dependency');
        }
      },
      run: (job) => this.runJob(job, set, observed),
    });
    this.stoppedToReplace.clear();
    return outcomes;
  }

  /**
   * Stages every start and reload of the plan (what each can check without touching the machine),
   * before any job runs; resolves with the problem of each unit whose staging failed.
   */
  async stage(thePlan: Plan, set: UnitSet): Promise<Map<string, Problem>> {
    const refused = new Map<string, Problem>();
    const ups = thePlan.jobs.filter((j) => j.type === 'start' || j.type === 'reload');
    // One after another, the loop turning between slices (turns.ts): staged all at once, every
    // cell's image hash ran in the one turn where their reads completed.
    await inTurns(ups, async (job) => {
      const unit = set.units.get(job.unit);
      const desc = this.ctx.table.description(job.unit);
      const stage = unit && behaviourOf(unit.kind).stage;
      if (!unit || !desc || !stage) return;
      try {
        await stage(unit, this.kindContext(job.unit, set, desc));
      } catch (e) {
        refused.set(job.unit, toProblem(e, job.unit, 'ENGINE_START_FAILED'));
      }
    });
    return refused;
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
    const { ctx } = this;
    const unit = ctx.table.set?.units.get(id);
    const desc = ctx.table.description(id);
    if (!unit || !desc) return { result: 'skipped' };
    const prev = ctx.table.records.map.get(id);
    const adoptFacts = behaviourOf(unit.kind).adoptFacts;
    const facts: UnitFacts = adoptFacts ? adoptFacts(desc.facts, prev?.facts) : { ...desc.facts, ...(prev?.facts ?? {}) };
    ctx.table.records.write(unit, ctx.table.set, desc, facts, 'active');
    this.watchRunning(unit, facts);
    if (!prev) ctx.table.log('info', id, `found ${obs?.subState ?? 'running'}; adopted without restarting it`);
    return { result: 'done' };
  }

  /**
   * A process unit (a loader) found running (adopted, or recorded by an earlier daemon) is watched
   * like one this daemon spawned: its exit noticed, its output followed. Idempotent.
   */
  watchRunning(unit: Unit, facts: UnitFacts): void {
    const proc = behaviourOf(unit.kind).process;
    if (!proc || facts.pid === undefined || facts.startTime === undefined) return;
    // The adopted loader still writes to the file the last daemon opened for it.
    const logFile = this.logFileOf(unit.id);
    if (logFile) this.ctx.supervisor.followOutput(unit.id, logFile, proc.label(unit));
    this.ctx.supervisor.watchProcess(unit.id, { pid: facts.pid, startTime: facts.startTime });
  }

  private async runStart(id: string, set: UnitSet, reload: boolean): Promise<JobOutcome> {
    const { ctx } = this;
    const unit = set.units.get(id);
    const desc = ctx.table.description(id);
    if (!unit || !desc) return { result: 'skipped' };
    const limit = startLimitOf(unit);
    const history = ctx.table.history(id);
    if (limit && !history.tryStart(Date.now(), limit)) {
      ctx.table.holds.set(id, { reason: 'start-limit' });
      return {
        result: 'failed',
        unitResult: 'start-limit-hit',
        error: problem('ENGINE_START_LIMIT', `started ${limit.burst} times within ${limit.interval} ms; not starting it again`, {
          unit: id,
          hint: `fix the cause, then \`crtosctl start ${id}\` (or raise startLimit)`,
        }),
      };
    }
    const prevRecord = ctx.table.records.map.get(id);
    const prevFacts = prevRecord?.facts ?? {};
    // What this start replaces: the record its own stop took down in this plan, else the record.
    const replacedRecord = this.stoppedToReplace.get(id) ?? prevRecord;
    this.stoppedToReplace.delete(id);
    let startingFacts: UnitFacts = { ...desc.facts, ...prevFacts };
    let invocationId: string | undefined;
    const behaviour = behaviourOf(unit.kind);
    const proc = behaviour.process;
    // A process unit's last run, when its record outlived its main process (no crtosd saw it exit).
    const previous = proc && prevFacts.pid !== undefined ? prevFacts : undefined;
    if (proc) {
      // A fresh invocation id, recorded before the spawn and without the previous (gone) process:
      // a daemon killed before the 'active' record finds this process by it (recordFoundLoaders).
      invocationId = randomBytes(16).toString('hex');
      ctx.table.records.settleInvocation(invocationId);
      const { pid: _pid, startTime: _startTime, ...rest } = startingFacts;
      startingFacts = { ...rest, invocationId };
    }
    ctx.table.records.write(unit, ctx.table.set, desc, startingFacts, 'starting');
    await this.makeLogDir(id);
    const kindCtx = {
      ...this.kindContext(id, set, desc),
      ...(invocationId ? { invocationId } : {}),
      ...(previous ? { previous } : {}),
      ...(replacedRecord ? { replaced: replacedRecord.facts } : {}),
    };
    if (proc && kindCtx.logFile) {
      // Followed from before the spawn, so not even the first line the loader writes is missed.
      ctx.supervisor.followOutput(id, kindCtx.logFile, proc.label(unit));
    }
    try {
      const facts = reload && behaviour.reload ? await behaviour.reload(unit, kindCtx) : await behaviour.start(unit, kindCtx);
      ctx.table.records.write(unit, ctx.table.set, desc, { ...desc.facts, ...facts }, 'active');
      if (proc && facts.pid !== undefined && facts.startTime !== undefined) {
        const rt = ctx.table.runtime(id);
        rt.details = proc.startedDetails(facts.pid, rt.restarts);
        ctx.supervisor.watchProcess(id, { pid: facts.pid, startTime: facts.startTime });
      }
      return { result: 'done' };
    } catch (e) {
      const err = toProblem(e, id, 'ENGINE_START_FAILED');
      const timedOut = err.code === 'ENGINE_TIMEOUT' || err.code === 'ENGINE_READY_TIMEOUT';
      if (e instanceof RolledBackError && replacedRecord) {
        // The old instance runs again: so the record says, with its own description.
        ctx.table.records.restore(replacedRecord);
        return { result: 'failed', unitResult: 'exit-code', error: err, keptRunning: true };
      }
      if (e instanceof StagingError) {
        // Nothing was touched: what ran keeps running, and the record still says what it runs.
        if (prevRecord) ctx.table.records.restore(prevRecord);
        else ctx.table.records.delete(id);
        if (prevRecord?.phase === 'active') return { result: 'failed', unitResult: 'exit-code', error: err, keptRunning: true };
      } else await this.cleanupAfterFailedStart(unit, desc);
      ctx.supervisor.onStartFailure(unit, desc.digest, err);
      if (ctx.table.holds.get(id)?.reason === 'start-limit') {
        // The restart policy gave up: say so rather than the last attempt's own result.
        const rt = ctx.table.runtime(id);
        return { result: 'failed', unitResult: 'start-limit-hit', ...(rt.lastError ? { error: rt.lastError } : { error: err }) };
      }
      return { result: timedOut ? 'timeout' : 'failed', unitResult: timedOut ? 'timeout' : 'exit-code', error: err };
    }
  }

  /** Nothing half-made is left: a failed start is taken down again (cells destroyed, CPUs back). */
  private async cleanupAfterFailedStart(unit: Unit, desc: UnitDescription): Promise<void> {
    const rec = this.ctx.table.records.map.get(unit.id);
    const target: Target = { id: unit.id, kind: unit.kind, unit, facts: { ...desc.facts, ...(rec?.facts ?? {}) } };
    try {
      await behaviourOf(unit.kind).stop(target, this.stopContext(unit.id));
      this.ctx.table.records.delete(unit.id);
    } catch (e) {
      // The record stays ('starting'): the next pass sees the unit half-made and cleans up again.
      this.ctx.table.log('warn', unit.id, `cleaning up after the failed start failed: ${toProblem(e, unit.id, 'ENGINE_STOP_FAILED').message}`);
    }
  }

  private async runStop(id: string, final: boolean): Promise<JobOutcome> {
    const { ctx } = this;
    const rec = ctx.table.records.map.get(id);
    const unit = ctx.table.set?.units.get(id);
    const desc = ctx.table.description(id);
    const kind = unit?.kind ?? rec?.kind;
    if (!kind) return { result: 'skipped' };
    const target: Target = { id, kind, ...(unit ? { unit } : {}), facts: { ...(desc?.facts ?? {}), ...(rec?.facts ?? {}) } };
    ctx.supervisor.beginStop(id);
    try {
      await behaviourOf(kind).stop(target, this.stopContext(id));
      ctx.table.records.delete(id);
      // Stopped to be started again in this plan: its start may need to put it back.
      if (!final && rec) this.stoppedToReplace.set(id, rec);
      return { result: 'done' };
    } catch (e) {
      return { result: 'failed', unitResult: 'exit-code', error: toProblem(e, id, 'ENGINE_STOP_FAILED') };
    } finally {
      ctx.supervisor.endStop(id);
    }
  }

  private afterJob(job: PlanJob, outcome: JobOutcome): void {
    const { ctx } = this;
    const rt = ctx.table.runtime(job.unit);
    if (outcome.result === 'done') {
      if (job.type === 'start' || job.type === 'reload') {
        ctx.supervisor.newRun(job.unit);
        this.retryDependents(job.unit);
        rt.result = 'success';
        delete rt.lastError;
        const unit = ctx.table.set?.units.get(job.unit);
        transition(rt, 'active', unit ? behaviourOf(unit.kind).activeSubState(unit) : 'running');
        ctx.table.log('info', job.unit, job.type === 'reload' ? 'reloaded' : 'started');
      } else if (job.type === 'stop') {
        // The job's end is announced (JobRemoved) before the pass observes again: what the unit
        // reported while running (a loader's MainPID, a cell's CPUs) must not outlive it.
        rt.details = emptyDetails(rt.details.kind);
        transition(rt, 'inactive', 'dead');
        ctx.table.log('info', job.unit, 'stopped');
        if (!ctx.table.set?.units.has(job.unit)) ctx.table.removeRuntime(job.unit);
      }
    } else if (outcome.result !== 'skipped') {
      rt.result = outcome.unitResult ?? 'exit-code';
      if (outcome.error) rt.lastError = outcome.error;
      if (outcome.error?.code === 'ENGINE_PREVIOUS_NOT_STOPPED') this.retryAfterFailedStop(job.unit, outcome.error);
      const pending = ctx.table.holds.get(job.unit)?.reason === 'restart-pending';
      if (pending) transition(rt, 'activating', 'auto-restart');
      else transition(rt, 'failed', 'failed');
      ctx.table.log(outcome.result === 'dependency' ? 'warn' : 'error', job.unit, `${job.type} ${outcome.result}: ${outcome.error?.message ?? ''}`);
    }
    ctx.table.announce(job.unit);
    ctx.manualJobs.answeredBy(job.unit, job, outcome);
  }

  /**
   * A start that could not run because stopping its previous instance failed (a destroy that hung
   * and was killed) is tried again by the unit's restart policy, like a failed start: the next try
   * stops the previous instance again first.
   */
  private retryAfterFailedStop(id: string, error: Problem): void {
    const unit = this.ctx.table.set?.units.get(id);
    const desc = this.ctx.table.description(id);
    if (unit && desc) this.ctx.supervisor.onStartFailure(unit, desc.digest, error);
  }

  /**
   * A unit that came (back) up gives the units that require it and failed another try: they may
   * have failed for it (a cell create refused while its hypervisor was being disabled).
   */
  private retryDependents(id: string): void {
    for (const dep of this.ctx.table.set?.deps.get(id)?.requiredBy ?? []) {
      if (this.ctx.table.holds.get(dep)?.reason !== 'failed') continue;
      this.ctx.table.holds.delete(dep);
      this.ctx.table.history(dep).reset();
    }
  }

  // ---- contexts for the kinds' behaviours ---------------------------------------------------------

  /** The log directory, made (through the Host) before a start that may write its file there. */
  private async makeLogDir(id: string): Promise<void> {
    const { ctx } = this;
    if (!ctx.logDir) return;
    try {
      await ctx.host.makeDirectory(ctx.logDir);
    } catch (e) {
      ctx.table.log('warn', id, `cannot create ${ctx.logDir}: ${(e as Error).message}`);
    }
  }

  private kindContext(id: string, set: UnitSet, desc: UnitDescription): KindContext {
    const { ctx } = this;
    return {
      host: this.recordedHost(id),
      set,
      desc,
      timed: (op, ms, what) => this.tools.bounded(id, op, ms, what),
      sleep,
      baseEnv: ctx.loaderEnv ?? { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
      ...(ctx.logDir ? { logFile: join(ctx.logDir, `${id}.log`) } : {}),
      log: (message) => ctx.table.log('info', id, message),
    };
  }

  /** The Host as a job of unit `id` sees it: its actions timed into the unit's timeline (timeline.ts). */
  private recordedHost(id: string): Host {
    return recordingHost(this.ctx.host, id, (unit) => this.ctx.table.existingRuntime(unit));
  }

  /** A process unit's output file (ID.log in the log directory), undefined without one. */
  private logFileOf(id: string): string | undefined {
    return this.ctx.logDir ? join(this.ctx.logDir, `${id}.log`) : undefined;
  }

  private stopContext(id: string): StopContext {
    return { host: this.recordedHost(id), timed: (op, ms, what) => this.tools.bounded(id, op, ms, what), sleep, log: (message) => this.ctx.table.log('warn', id, message) };
  }
}

/**
 * The lock group of the job's unit (KindBehaviour.lockGroup), asked of the unit or of its record
 * once removed. The facts are the description's under the record's: a unit never started has no
 * record, and the backend it runs on is in its description.
 */
function lockGroupOf(job: PlanJob, set: UnitSet, records: ReadonlyMap<string, AppliedRecord>, description: (id: string) => UnitDescription | undefined): string | undefined {
  if (job.type === 'adopt') return undefined;
  const unit = set.units.get(job.unit);
  const rec = records.get(job.unit);
  const kind = unit?.kind ?? rec?.kind;
  if (kind === undefined) return undefined;
  const lockGroup = behaviourOf(kind).lockGroup;
  return lockGroup?.({ id: job.unit, kind, ...(unit ? { unit } : {}), facts: { ...(description(job.unit)?.facts ?? {}), ...(rec?.facts ?? {}) } });
}

/**
 * Tool runs a job takes, for the launch order (KindBehaviour.launchCost): a cell's start or reload
 * is three jailhouse commands in a row, each behind the driver's one-at-a-time lock, so cells go
 * before work that can fill in around them.
 */
function jobCost(job: PlanJob, set: UnitSet): number {
  if (job.type === 'adopt') return 0;
  if (job.type === 'stop') return 1;
  const kind = set.units.get(job.unit)?.kind;
  return kind === undefined ? 1 : (behaviourOf(kind).launchCost ?? 1);
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
