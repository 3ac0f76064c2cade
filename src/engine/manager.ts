/**
 * The Manager: one serialized loop of observe → plan → apply, fed by triggers (start, a unit file
 * change, a manual job, a restart timer, a loader exiting, a cell changing state in sysfs). It
 * implements ManagerApi for the D-Bus service, the log and `--once`.
 *
 * Level-triggered: a pass reads the machine and decides from it, the unit set, the state file
 * and a few holds (manual stops, failures not to retry); it never replays events. A restarted
 * daemon therefore converges to the same state and adopts what already runs.
 *
 * The concerns live beside it: what is kept per unit (unit-table.ts: runtimes, holds, histories,
 * records, announcements), one pass (pass.ts), running a pass's jobs (jobs.ts), supervision
 * between passes (supervisor.ts) and the jobs asked for by hand (manual-jobs.ts). The Manager
 * keeps the lifecycle, the API and the loop that serializes passes.
 */
import { EventEmitter } from 'node:events';
import type { Host } from '../host/host.js';
import type { UnitSet } from '../units/types.js';
import { hasErrors, problem, ProblemError, type Problem } from '../errors/problem.js';
import { renderProblem } from '../errors/render.js';
import type {
  DaemonStatus,
  JobInfo,
  JobType,
  LogLine,
  ManagerApi,
  ManagerEvents,
  PlannedStep,
  ReloadOutcome,
  TimelineOperation,
  UnitResult,
  UnitStatus,
} from './manager-api.js';
import { behaviourKinds, behaviourOf, canReload, hasBehaviour } from '../kinds/behaviours.js';
import { describeUnits, hostFiles, unitFileErrors } from './description.js';
import { checkOnMachine } from '../conditions/check-on-machine.js';
import type { Skip } from '../conditions/machine-set.js';
import { collectIdentity } from '../facts/collect.js';
import type { StateStore } from './state-file.js';
import type { UnitDescription } from './types.js';
import { Supervisor } from './supervisor.js';
import { JobRunner } from './jobs.js';
import { Pass, type PassResult } from './pass.js';
import { UnitTable } from './unit-table.js';
import { ManualJobs } from './manual-jobs.js';
import { memoryMaskStore, type MaskChange, type MaskScope, type MaskStore } from './masks.js';
import type { KillWhom, OperatorApi } from './operator-api.js';
import { kindOfUnitId } from '../kinds/views.js';
import { timelineOf } from './timeline.js';

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
  /** Where masks are kept (src/engine/masks.ts); default in memory. */
  masks?: MaskStore;
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

export class Manager extends EventEmitter implements ManagerApi, OperatorApi {
  private readonly host: Host;
  private readonly opts: ManagerOptions;
  private readonly table: UnitTable;
  private readonly manual: ManualJobs;
  private readonly supervisor: Supervisor;
  private readonly passes: Pass;
  private readonly masks: MaskStore;
  private lastLoadErrors: Problem[] = [];
  private lastReconcile = 0;
  /** The last load of the unit files for a reload (the one at start included), for the metrics. */
  private reloaded: { timestamp: number; ok: boolean } | undefined;
  private systemState: DaemonStatus['systemState'] = 'starting';
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
    this.masks = opts.masks ?? memoryMaskStore();
    this.setMaxListeners(100);
    this.table = new UnitTable(opts.store, this);
    this.manual = new ManualJobs(this.table);
    const reconcile = (reason: string) => this.reconcile(reason);
    this.supervisor = new Supervisor({
      host: opts.host,
      table: this.table,
      supervise: opts.supervise !== false,
      pollIntervalMs: opts.pollIntervalMs ?? 1000,
      reconcile,
      closed: () => this.closed,
      passRunning: () => this.passPromise !== undefined,
    });
    const jobs = new JobRunner({
      host: opts.host,
      table: this.table,
      supervisor: this.supervisor,
      manualJobs: this.manual,
      maxParallelJobs: opts.maxParallelJobs ?? 10,
      maxLockedJobs: opts.maxLockedJobs ?? 8,
      logDir: opts.logDir,
      loaderEnv: opts.loaderEnv,
      reconcile,
    });
    this.passes = new Pass({ host: opts.host, table: this.table, supervisor: this.supervisor, jobs, reconcile, closed: () => this.closed });
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /** Loads the unit files and the state file, converges once, then keeps watching. */
  async start(): Promise<ReloadOutcome> {
    for (const p of this.table.records.load()) this.log('warn', p.unit, p.message);
    const outcome = await this.reload();
    if (!outcome.ok && !this.table.set) {
      // Nothing to apply yet; still observe what runs (re-adopted from the state file).
      await this.reconcile('start');
    }
    this.supervisor.startPolling();
    return outcome;
  }

  /** Stops timers and watchers; touches nothing on the machine. */
  close(): void {
    this.closed = true;
    this.table.flush();
    this.supervisor.close();
  }

  /** --stop-on-exit: every unit down, in reverse dependency order. */
  async stopAll(): Promise<void> {
    this.systemState = 'stopping';
    this.emitDaemon();
    await this.idle();
    for (const id of this.table.set?.units.keys() ?? []) this.table.holds.set(id, { reason: 'stopped' });
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
      unitDirectories: this.opts.unitDirectories ?? this.table.set?.directories ?? [],
      lastLoadErrors: [...this.lastLoadErrors],
      lastReconcile: this.lastReconcile,
      systemState: this.systemState,
    };
  }

  listUnits(): UnitStatus[] {
    return this.table.statuses();
  }

  unitIds(): string[] {
    return this.table.ids();
  }

  getUnit(id: string): UnitStatus | undefined {
    return this.table.status(id);
  }

  enqueue(id: string, type: JobType): JobInfo {
    const unit = this.table.unit(id);
    if (!unit) throw noSuchUnit(id);
    const mask = this.table.masks.get(id);
    if (mask && type !== 'stop') {
      throw new ProblemError(
        problem('ENGINE_UNIT_MASKED', `Unit ${id} is masked (${this.masks.path(id, mask)}); unmask it first: crtosctl unmask${mask === 'runtime' ? ' --runtime' : ''} ${id}`, {
          unit: id,
          hint: `\`crtosctl unmask${mask === 'runtime' ? ' --runtime' : ''} ${id}\` lifts the mask`,
        }),
      );
    }
    if (type === 'reload' && !canReload(unit.kind)) {
      throw new ProblemError(problem('ENGINE_BAD_JOB', `${id} cannot be reloaded: ${whoReloads()}`, { unit: id, hint: 'use restart' }));
    }
    if (type === 'stop') this.table.stop(id);
    else {
      this.table.release(id);
      if (type === 'restart') this.table.requestRestart(id);
      if (type === 'reload') this.table.requestReload(id, 'reload requested');
    }
    const info = this.manual.add(id, type);
    this.trigger(`${type} ${id} requested`);
    return info;
  }

  async reload(): Promise<ReloadOutcome> {
    // Masks made by hand in the mask directories count from a reload, as systemd's do.
    this.table.setMasks(this.masks.load());
    const loaded = await this.describedLoad();
    this.reloaded = { timestamp: Date.now() * 1000, ok: loaded.set !== undefined && !hasErrors(loaded.problems) };
    if (!loaded.set || hasErrors(loaded.problems)) {
      this.lastLoadErrors = loaded.problems;
      const errors = loaded.problems.filter((p) => (p.severity ?? 'error') === 'error').length;
      this.log('error', undefined, `unit files refused (${errors} error${errors === 1 ? '' : 's'}); nothing was changed, the ${this.table.set ? 'last good set runs on' : 'machine is left as it is'}`);
      // One line each, compiler style (file:line:column: error[CODE]: what (unit)), with the fix.
      for (const p of loaded.problems) this.log(p.severity === 'warning' ? 'warn' : 'error', p.unit, `${renderProblem({ ...p, hint: undefined }).trimEnd()}${p.hint ? `; hint: ${p.hint}` : ''}`);
      this.emitDaemon();
      return { ok: false, problems: loaded.problems, steps: [] };
    }
    this.table.install(loaded.set, loaded.descriptions!, (id) => this.supervisor.cancelRestart(id), loaded.skipped);
    this.table.retryFailed();
    this.lastLoadErrors = [];
    for (const p of loaded.problems) this.log('warn', p.unit, p.message);
    this.emitDaemon();
    // The steps are those of the pass that applies the new set (no separate preview: observing
    // twice would double the reaction time). A step that failed makes the reload fail, naming it.
    const report = { after: this.manual.current, taken: false, steps: [] as PlannedStep[], failures: [] as Problem[] };
    this.reloadReport = report;
    await this.reconcile('unit files loaded');
    if (this.reloadReport === report) this.reloadReport = undefined;
    return { ok: report.failures.length === 0, problems: [...loaded.problems, ...report.failures], steps: report.steps };
  }

  async planReload(): Promise<ReloadOutcome> {
    const loaded = await this.describedLoad();
    if (!loaded.set || hasErrors(loaded.problems)) return { ok: false, problems: loaded.problems, steps: [] };
    return { ok: true, problems: loaded.problems, steps: await this.passes.preview(loaded.set, loaded.descriptions!, loaded.skipped ?? new Map()) };
  }

  /**
   * The unit files loaded and described. Describing reads the machine's files, which can show the
   * unit files wrong (an inline cell configuration of another revision than the system's): such a
   * set is refused like one with load errors, before any of it runs. The machine's identity, read
   * anew on every load, decide which units apply here and what their specifiers expand to.
   */
  private async describedLoad(): Promise<LoadResult & { descriptions?: Map<string, UnitDescription>; skipped?: ReadonlyMap<string, Skip> }> {
    const loaded = await this.opts.loadUnits();
    if (!loaded.set || hasErrors(loaded.problems)) return loaded;
    // The check `crtosctl validate --root` runs: a set it rejects is never applied.
    const files = hostFiles(this.host);
    const sources = loaded.sources ?? new Map<string, string>();
    const facts = await collectIdentity(this.host);
    const { machineSet, problems: checked } = await checkOnMachine({ set: loaded.set, sources, machine: files, facts });
    if (hasErrors(checked)) return { problems: [...loaded.problems, ...checked], sources };
    // Units skipped here are not described: their files are another machine's.
    const descriptions = await describeUnits(machineSet.applied, this.host, loaded.sources, files, (id) => this.table.records.map.get(id)?.facts);
    const errors = unitFileErrors(descriptions);
    if (errors.length > 0) return { problems: [...loaded.problems, ...checked, ...errors], sources };
    for (const [id, skip] of machineSet.skipped) this.log('info', id, skip.text);
    return { ...loaded, set: machineSet.set, problems: [...loaded.problems, ...checked], descriptions, skipped: machineSet.skipped };
  }

  // ---- for the metrics (src/metrics/snapshot.ts MetricsSource) ------------------------------------

  /** Automatic restarts of a unit (its restart policy or health table); its history keeps them across daemon restarts. */
  restarts(id: string): number {
    return this.table.existingRuntime(id)?.restarts ?? 0;
  }

  /** When the unit files were last loaded for a reload (µs since the epoch) and whether that set was applied; undefined before. */
  lastReload(): { timestamp: number; ok: boolean } | undefined {
    return this.reloaded && { ...this.reloaded };
  }

  // ---- OperatorApi (operator-api.ts) ------------------------------------------------------------

  resetFailed(id?: string): string[] {
    if (id !== undefined && !this.table.existingRuntime(id)) throw noSuchUnit(id);
    const ids = id === undefined ? this.table.ids() : [id];
    const reset = ids.filter((u) => this.table.resetFailed(u));
    for (const u of reset) this.log('info', u, 'failed state reset (crtosctl reset-failed); it stays down until started');
    if (reset.length > 0) {
      if (this.systemState === 'degraded' && !this.table.anyFailed()) this.systemState = 'running';
      this.emitDaemon();
    }
    return reset;
  }

  async kill(id: string, whom: KillWhom, signal: NodeJS.Signals): Promise<number> {
    const kind = this.table.unit(id)?.kind ?? this.table.records.map.get(id)?.kind;
    if (kind === undefined) throw noSuchUnit(id);
    const refuse = (message: string, hint: string) => new ProblemError(problem('ENGINE_CANNOT_KILL', message, { unit: id, hint }));
    if (!hasBehaviour(kind) || !behaviourOf(kind).process) {
      throw refuse(`${id} is a ${kind}: crtosd runs no process for it, so there is nothing to signal (kill applies to units that run one, loaders)`, `stop or restart it: \`crtosctl stop ${id}\``);
    }
    const { pid, startTime } = this.table.records.map.get(id)?.facts ?? {};
    const gone = () => refuse(`${id} has no process running to send ${signal} to`, `\`crtosctl status ${id}\` shows its state; \`crtosctl start ${id}\` starts it`);
    if (pid === undefined || startTime === undefined) throw gone();
    const count = whom === 'main' ? Number(await this.host.kill({ pid, startTime }, signal)) : await this.host.killGroup({ pid, startTime }, signal);
    if (count === 0) throw gone();
    this.log('info', id, `sent ${signal} to ${whom === 'main' ? `its main process ${pid}` : `${count} process${count === 1 ? '' : 'es'} of its group`} (crtosctl kill)`);
    return count;
  }

  mask(ids: readonly string[], scope: MaskScope): MaskChange[] {
    return this.changeMasks(ids, (id) => {
      const changes = this.masks.mask(id, scope);
      if (changes.length > 0) this.log('info', id, `masked (${scope}): it is not started until unmasked${this.table.existingRuntime(id)?.activeState === 'active' ? '; it runs on until stopped' : ''}`);
      return changes;
    });
  }

  unmask(ids: readonly string[], scope: MaskScope): MaskChange[] {
    return this.changeMasks(ids, (id) => {
      const changes = this.masks.unmask(id, scope);
      if (changes.length > 0) this.log('info', id, `unmasked (${scope})`);
      return changes;
    });
  }

  /** Checks every id first (nothing changes when one is bad), applies `change` to each, then lets a pass act on the new masks. */
  private changeMasks(ids: readonly string[], change: (id: string) => MaskChange[]): MaskChange[] {
    for (const id of ids) {
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/.test(id) || kindOfUnitId(id) === undefined) {
        throw new ProblemError(problem('ENGINE_BAD_UNIT_NAME', `'${id}' is not a unit id NAME.KIND of a known kind`, { hint: '`crtosctl list-units` shows the units' }));
      }
    }
    const changes: MaskChange[] = [];
    try {
      for (const id of ids) changes.push(...change(id));
    } finally {
      this.table.setMasks(this.masks.load());
      if (changes.length > 0) void this.reconcile('masks changed');
    }
    return changes;
  }

  unitLog(id: string, lines: number): LogLine[] {
    return this.table.unitLog(id, lines);
  }

  timeline(): TimelineOperation[] {
    return timelineOf(this.table.runtimes.values());
  }

  log(level: LogLine['level'], unit: string | undefined, message: string): void {
    this.table.log(level, unit, message);
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
            const generation = this.manual.beginPass();
            this.report(generation, await this.passes.run(reason));
            this.lastReconcile = Date.now() * 1000;
            this.manual.passEnded(generation);
            if (this.systemState !== 'stopping') this.systemState = this.table.anyFailed() ? 'degraded' : 'running';
            this.emitDaemon();
          }
        } finally {
          this.passPromise = undefined;
        }
      })();
    }
    return this.passPromise;
  }

  /** The first pass that began after a reload installed its set answers the reload. */
  private report(generation: number, result: PassResult): void {
    const report = this.reloadReport;
    if (!report || report.taken || generation <= report.after || result.steps === undefined) return;
    report.taken = true;
    report.steps = result.steps;
    report.failures = result.failures;
  }

  private emitDaemon(): void {
    this.emit('daemonChanged', this.daemon());
  }
}

function noSuchUnit(id: string): ProblemError {
  return new ProblemError(problem('ENGINE_NO_SUCH_UNIT', `no unit ${id} is loaded`, { unit: id, hint: '`crtosctl list-units` shows the loaded units' }));
}

/** `only cells reload (shutdown, load, start)`: the kinds that reload in place, for refusing a reload of another. */
function whoReloads(): string {
  const kinds = behaviourKinds().filter(canReload);
  if (kinds.length === 0) return 'no unit kind reloads';
  const steps = kinds.map((k) => behaviourOf(k).reloadSteps).filter((s): s is string => s !== undefined);
  return `only ${kinds.map((k) => `${k.toLowerCase()}s`).join(' and ')} reload${steps.length > 0 ? ` (${steps.join('; ')})` : ''}`;
}

export type { UnitResult };
