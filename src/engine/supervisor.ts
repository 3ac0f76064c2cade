/**
 * Supervision between and within passes: the failure policy of a unit observed failed while it ran
 * (a cell's onFailure), process units' exits (loaders), automatic restarts with back-off and start
 * limits, and the backends' cheap poll (Backend.changed) that notices a cell changing state. It
 * decides and schedules; the Manager's loop does the work (through `reconcile`). What each kind's
 * policy is, it asks the kind's behaviour (restarts, onObservedFailure, process).
 */
import type { Host, ProcessIdentity } from '../host/host.js';
import type { Unit } from '../units/types.js';
import { problem, type Problem } from '../errors/problem.js';
import { isCleanExit, type StartLimit } from './supervision.js';
import { transition } from './status.js';
import type { Observation } from './types.js';
import type { UnitTable } from './unit-table.js';
import { LoaderOutputs } from './loader-output.js';
import { behaviourOf, canReload } from '../kinds/behaviours.js';
import { allBackends, findBackend, type BackendStatus } from '../backends/index.js';

const DEFAULT_LIMIT: StartLimit = { burst: 5, interval: 10_000 };

/** What the supervisor needs from the Manager. */
export interface SupervisorContext {
  readonly host: Host;
  /** Restart timers and exit watching; false for `--once`. */
  readonly supervise: boolean;
  /** How often the backends' state is polled (Backend.changed: Jailhouse's cells in sysfs); 0 turns polling off. */
  readonly pollIntervalMs: number;
  /** The units: set, descriptions, records, runtimes, holds, histories, announcements. */
  readonly table: UnitTable;
  reconcile(reason: string): Promise<void>;
  closed(): boolean;
  passRunning(): boolean;
}

export class Supervisor {
  private readonly watchedProcesses = new Set<string>();
  /** Process units we are stopping: their exit is not a failure. */
  private readonly stopping = new Set<string>();
  /** Units whose `failed` state was already handled by their failure policy. */
  private readonly handledFailures = new Set<string>();
  /** Pending restart timers, by unit. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private pollTimer: NodeJS.Timeout | undefined;
  private pollBusy = false;
  /**
   * What the last pass saw of each backend, for the poll to compare against. Until a pass ran, each
   * backend is taken as down with no partitions, so a poll before it sees one that is up.
   */
  private pollSeen: ReadonlyMap<string, BackendStatus> = new Map(allBackends().map((b) => [b.definition.type, { enabled: false, partitions: [] }]));

  constructor(private readonly ctx: SupervisorContext) {}

  /**
   * True while a restart timer is pending for a unit still waiting on it. A manual start or stop
   * replaces the hold meanwhile; its timer then fires into nothing, and must not keep the manager
   * from reporting that it settled (nothing would announce the timer's end).
   */
  hasPendingRestarts(): boolean {
    for (const id of this.timers.keys()) if (this.ctx.table.holds.get(id)?.reason === 'restart-pending') return true;
    return false;
  }

  /** Loaders' output files followed into their units' logs; made on first use. */
  private outputs: LoaderOutputs | undefined;

  /** Stops the poll, the restart timers and following loaders' output. */
  close(): void {
    this.outputs?.close();
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** While a stop job runs, the process unit's exit is expected. */
  beginStop(id: string): void {
    this.stopping.add(id);
  }

  endStop(id: string): void {
    this.stopping.delete(id);
  }

  /** A new run: its failure is a new failure for the onFailure policy. */
  newRun(id: string): void {
    this.handledFailures.delete(id);
  }

  /**
   * A unit that ran and is found `failed` (a cell whose inmate faulted): its kind's failure policy
   * (KindBehaviour.onObservedFailure), once per failure.
   */
  superviseFailures(observed: Map<string, Observation>): void {
    for (const [id, obs] of observed) {
      const unit = this.ctx.table.unit(id);
      const policy = unit && behaviourOf(unit.kind).onObservedFailure;
      if (!unit || !policy) continue;
      if (obs.state !== 'failed') {
        this.handledFailures.delete(id);
        continue;
      }
      if (this.handledFailures.has(id) || !this.ctx.table.records.map.has(id)) continue;
      this.handledFailures.add(id);
      const failure = policy(unit, obs, this.ctx.table.records.map.get(id)!.facts);
      const err = failure.problem;
      const rt = this.ctx.table.runtime(id);
      rt.result = 'exit-code';
      rt.lastError = err;
      this.ctx.table.log('error', id, `${err.message}; onFailure: ${failure.action}`);
      if (failure.action === 'restart') {
        // In place when the kind reloads (a cell keeps its CPUs and configuration).
        if (!this.scheduleRestart(unit, failure.why, err, canReload(unit.kind))) transition(rt, 'failed', 'failed');
      } else if (failure.action === 'stop') {
        this.ctx.table.holds.set(id, { reason: 'stopped' });
      }
    }
  }

  /** What happens after a failed start: the unit's restart policy, else it stays failed. */
  onStartFailure(unit: Unit, digest: string, err: Problem, reload = false): void {
    const policy = restartPolicyOf(unit);
    if (policy && policy.onStartFailure && this.scheduleRestart(unit, 'start failed', err, reload)) return;
    this.ctx.table.holds.set(unit.id, { reason: 'failed', digest });
  }

  /**
   * Schedules an automatic restart after the back-off delay, unless the start limit forbids it
   * (then the unit is held with start-limit-hit). Returns whether a restart was scheduled.
   */
  scheduleRestart(unit: Unit, why: string, err: Problem, reload = false): boolean {
    const { ctx } = this;
    const policy = restartPolicyOf(unit);
    if (!policy || !ctx.supervise || ctx.closed()) return false;
    const history = ctx.table.history(unit.id);
    const rt = ctx.table.runtime(unit.id);
    const limit = startLimitOf(unit) ?? DEFAULT_LIMIT;
    const delay = history.nextDelay(policy.restartSec, policy.restartMaxSec);
    if (!history.allowed(Date.now() + delay, limit)) {
      ctx.table.holds.set(unit.id, { reason: 'start-limit' });
      rt.result = 'start-limit-hit';
      rt.lastError = problem('ENGINE_START_LIMIT', `${why}: ${err.message}; start limit of ${limit.burst} starts in ${limit.interval} ms reached, not restarting`, { unit: unit.id, hint: `fix the cause, then \`crtosctl start ${unit.id}\`` });
      ctx.table.log('error', unit.id, rt.lastError.message);
      transition(rt, 'failed', 'failed');
      ctx.table.announce(unit.id);
      return true;
    }
    ctx.table.holds.set(unit.id, { reason: 'restart-pending' });
    rt.restarts++;
    transition(rt, 'activating', 'auto-restart');
    ctx.table.log('warn', unit.id, `${why}; restarting in ${delay} ms`);
    ctx.table.announce(unit.id);
    clearTimeout(this.timers.get(unit.id));
    const timer = setTimeout(() => {
      this.timers.delete(unit.id);
      if (ctx.table.holds.get(unit.id)?.reason !== 'restart-pending') return;
      ctx.table.holds.delete(unit.id);
      if (reload) ctx.table.requestReload(unit.id, `onFailure restart: ${why}`);
      void ctx.reconcile(`restart ${unit.id}`);
    }, delay);
    this.timers.set(unit.id, timer);
    return true;
  }

  /** Drops a pending automatic restart (the unit is started at once instead, or not at all). */
  cancelRestart(id: string): void {
    const timer = this.timers.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(id);
  }

  /**
   * Shows the loader's output (its stdout/stderr file) in the unit's log and rotates the file
   * while crtosd runs (loader-output.ts). Called before each spawn and when a loader is adopted.
   */
  followOutput(id: string, file: string, program: string): void {
    if (!this.ctx.supervise || this.ctx.closed()) return;
    this.outputs ??= new LoaderOutputs(this.ctx.host, (level, unit, message) => this.ctx.table.log(level, unit, message));
    this.outputs.follow(id, file, program);
  }

  /**
   * Watches a process unit's main process (a loader): its exit ends the run, what it left in its
   * group is stopped, and its kind's restart policy (ProcessBehaviour.restartOnExit) decides what next.
   */
  watchProcess(id: string, proc: ProcessIdentity): void {
    const { ctx } = this;
    const key = `${id}:${proc.pid}:${proc.startTime}`;
    if (this.watchedProcesses.has(key) || !ctx.supervise) return;
    this.watchedProcesses.add(key);
    this.outputs?.setPid(id, proc.pid);
    void ctx.host.waitExit(proc).then((exit) => {
      this.watchedProcesses.delete(key);
      if (ctx.closed()) return;
      const rec = ctx.table.records.map.get(id);
      if (!rec || rec.facts.pid !== proc.pid || rec.facts.startTime !== proc.startTime) return; // replaced or stopped
      if (this.stopping.has(id)) return;
      // Its last lines before its exit, as the journal orders them.
      this.outputs?.flush(id);
      const unit = ctx.table.unit(id);
      const behaviour = behaviourOf(rec.kind).process;
      // What it left in its group (a wrapper's children) goes too, as systemd stops what remains
      // of a service once its main process exited.
      void behaviour?.stopLeftovers(id, proc, rec.facts, { host: ctx.host, sleep, log: (m) => ctx.table.log('warn', id, m) }).then(
        (left) => left > 0 && ctx.table.log('info', id, `stopped ${left} process(es) its main process left behind`),
        (e: unknown) => ctx.table.log('error', id, e instanceof Error ? e.message : String(e)),
      );
      ctx.table.records.delete(id);
      const rt = ctx.table.runtime(id);
      rt.exitCode = exit.code ?? -1;
      rt.exitSignal = exit.signal ?? '';
      const clean = isCleanExit(exit);
      const how = exit.signal ? `killed by ${exit.signal}` : exit.code === null ? 'gone (exit status unknown)' : `exited with code ${exit.code}`;
      const err = problem('ENGINE_PROCESS_EXITED', `process ${proc.pid} ${how}`, { unit: id });
      rt.result = clean ? 'success' : exit.signal ? 'signal' : 'exit-code';
      if (!clean) rt.lastError = err;
      ctx.table.log(clean ? 'info' : 'error', id, `process ${proc.pid} ${how}`);
      if (unit && behaviourOf(unit.kind).process?.restartOnExit(unit, exit)) {
        this.scheduleRestart(unit, `process ${how}`, err);
      } else if (unit) {
        ctx.table.holds.set(id, clean ? { reason: 'exited' } : { reason: 'failed', digest: ctx.table.digest(id) ?? '' });
        transition(rt, clean ? 'inactive' : 'failed', clean ? 'dead' : 'failed');
      }
      ctx.table.announce(id);
      void ctx.reconcile(`${id} exited`);
    });
  }

  startPolling(): void {
    const interval = this.ctx.pollIntervalMs;
    if (interval <= 0 || !this.ctx.supervise) return;
    this.pollTimer = setInterval(() => void this.poll(), interval);
    this.pollTimer.unref?.();
  }

  /** What a pass saw of the backends, for the poll to compare against. */
  rememberBackends(backends: ReadonlyMap<string, BackendStatus>): void {
    this.pollSeen = backends;
  }

  /**
   * The cheap watch between passes: the backends' own poll (Backend.changed: Jailhouse reads only
   * `enabled` and the `state` file of each cell the last pass saw); any difference starts a full pass.
   */
  private async poll(): Promise<void> {
    if (this.pollBusy || this.ctx.passRunning() || this.ctx.closed()) return;
    this.pollBusy = true;
    try {
      const changed = await Promise.all([...this.pollSeen].map(([type, seen]) => findBackend(type)?.changed?.(this.ctx.host, seen) ?? false));
      if (changed.some(Boolean)) void this.ctx.reconcile('cell states changed');
    } catch {
      // The next poll tries again; a pass reports real read errors.
    } finally {
      this.pollBusy = false;
    }
  }
}

export function startLimitOf(unit: Unit): StartLimit | undefined {
  return (unit.spec as { startLimit?: StartLimit }).startLimit;
}

interface RestartPolicy {
  restartSec: number;
  restartMaxSec: number;
  onStartFailure: boolean;
}

function restartPolicyOf(unit: Unit): RestartPolicy | undefined {
  const spec = unit.spec as { restartSec?: number; restartMaxSec?: number };
  if (spec.restartSec === undefined || spec.restartMaxSec === undefined) return undefined;
  // A kind with a policy field of its own says whether it restarts (a loader by its `restart`, a
  // cell by its `onFailure`); every other kind retries a failed start.
  if (behaviourOf(unit.kind).restarts?.(unit) === false) return undefined;
  return { restartSec: spec.restartSec, restartMaxSec: spec.restartMaxSec, onStartFailure: true };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
