/**
 * Supervision between and within passes: the health monitor of the units whose kind has one (a
 * cell found failed, a loader's exit, a failed start, a liveness check failing: each an event its
 * health table maps to an action, with escalation), the older failure policies of the others,
 * automatic restarts with back-off and start limits, liveness checks, and the backends' cheap poll
 * (Backend.changed) that notices a cell changing state. It decides and schedules; the Manager's
 * loop does the work (through `reconcile`). What each kind's policy is, it asks the kind's
 * behaviour (health, restarts, onObservedFailure, process).
 */
import type { Host, ProcessIdentity } from '../host/host.js';
import type { Unit } from '../units/types.js';
import { problem, type Problem } from '../errors/problem.js';
import { isCleanExit, type StartLimit } from './supervision.js';
import { transition } from './status.js';
import type { Observation } from './types.js';
import type { UnitTable } from './unit-table.js';
import type { LogLine } from './manager-api.js';
import { LoaderOutputs, OUTPUT_ROTATION } from './loader-output.js';
import { ToolRuns } from './tool-runs.js';
import { requiredByClosure } from './graph.js';
import { behaviourOf, canReload } from '../kinds/behaviours.js';
import { allBackends, findBackend, type BackendStatus } from '../backends/index.js';
import { decide, describeDecision, type HealthDecision, type HealthEvent, type UnitHealth } from './health/table.js';
import { recordDecision } from './health/record.js';
import { LivenessChecks, type LivenessWant } from './health/liveness.js';

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

  /** The units' liveness checks: a prober per unit that declares one, while it is active. */
  private readonly liveness: LivenessChecks;
  /** Exec liveness checks are recorded in the state directory while they run, as every tool crtosd runs. */
  private probeRuns: ToolRuns | undefined;

  constructor(private readonly ctx: SupervisorContext) {
    this.liveness = new LivenessChecks({
      host: ctx.host,
      isLive: (id) => this.isLive(id),
      failed: (id, failures, why) => this.livenessFailed(id, failures, why),
      runs: (unit, deadline) => (this.probeRuns ??= new ToolRuns({ host: ctx.host, store: ctx.table.records.toolRuns, log: (l, u, m) => ctx.table.log(l, u, m), reconcile: ctx.reconcile })).observer(unit, deadline),
    });
  }

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

  /** Stops the poll, the restart timers, the liveness checks and following loaders' output. */
  close(): void {
    this.liveness.close();
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

  /** A new run: its failure is a new failure for the failure policy, and its liveness is checked afresh. */
  newRun(id: string): void {
    this.handledFailures.delete(id);
    this.liveness.reset(id);
  }

  /**
   * A unit that ran and is found `failed` (a cell whose inmate faulted): its health table's
   * `failed` entry, or the kind's failure policy (KindBehaviour.onObservedFailure), once per
   * failure. Then the liveness checks follow what is active.
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
      const health = healthOf(unit);
      if (health) {
        const leave = () => void transition(rt, 'failed', 'failed');
        this.raise(unit, health, { event: 'failed', why: err.message, short: failure.why, problem: err, up: true, leave });
        continue;
      }
      const action = failure.action ?? 'none';
      this.ctx.table.log('error', id, `${err.message}; onFailure: ${action}`);
      if (action === 'restart') {
        // In place when the kind reloads (a cell keeps its CPUs and configuration).
        if (!this.scheduleRestart(unit, failure.why, err, canReload(unit.kind))) transition(rt, 'failed', 'failed');
      } else if (action === 'stop') {
        this.ctx.table.holds.set(id, { reason: 'stopped' });
      }
    }
    this.superviseLiveness(observed);
  }

  /**
   * What happens after a failed start: the unit's health table (`startFailed`, or `readyTimeout`
   * when its `ready:` probe was not answered), or its restart policy; else it stays failed.
   * `reload`: the unit is a failed cell, tried again by reloading it in place.
   */
  onStartFailure(unit: Unit, digest: string, err: Problem, reload = false): void {
    const health = healthOf(unit);
    const leave = () => void this.ctx.table.holds.set(unit.id, { reason: 'failed', digest });
    if (health) {
      const ready = err.code === 'ENGINE_READY_TIMEOUT';
      this.raise(unit, health, { event: ready ? 'readyTimeout' : 'startFailed', why: ready ? err.message : `start failed: ${err.message}`, short: 'start failed', problem: err, up: reload, logged: true, leave });
      return;
    }
    const policy = restartPolicyOf(unit);
    if (policy && policy.onStartFailure && this.scheduleRestart(unit, 'start failed', err, reload)) return;
    leave();
  }

  /**
   * Schedules an automatic restart after the back-off delay, unless the start limit forbids it
   * (then the unit is held with start-limit-hit). Returns whether a restart was scheduled. For the
   * kinds without a health table; `reload`: in place.
   */
  scheduleRestart(unit: Unit, why: string, err: Problem, reload = false): boolean {
    const policy = restartPolicyOf(unit);
    return policy !== undefined && this.schedule(unit, policy, why, err, reload ? 'reload' : 'start', `onFailure restart: ${why}`);
  }

  /**
   * The restart itself, after the back-off: `start` a unit that is down, `reload` one in place,
   * `restart` one that is up (stopped and started again); `requestWhy` is what the pass's job says.
   */
  private schedule(unit: Unit, policy: Backoff, why: string, err: Problem, how: 'start' | 'reload' | 'restart', requestWhy: string): boolean {
    const { ctx } = this;
    if (!ctx.supervise || ctx.closed()) return false;
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
      if (how === 'reload') ctx.table.requestReload(unit.id, requestWhy);
      else if (how === 'restart') ctx.table.requestRestart(unit.id);
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
    const { table } = this.ctx;
    this.outputs ??= new LoaderOutputs(this.ctx.host, (level, unit, message) => table.log(level, unit, message), OUTPUT_ROTATION, (line) => table.loaderOutput(line));
    this.outputs.follow(id, file, program);
  }

  /**
   * Whether the unit's recorded main process is watched and its exit not handled yet (nor expected,
   * by a stop): a snapshot may find it gone first (a zombie not reaped yet, an adopted process
   * between two looks of its watch), and what happens then is its exit handler's to decide.
   */
  exitPending(id: string): boolean {
    const facts = this.ctx.table.records.map.get(id)?.facts;
    if (facts?.pid === undefined || facts.startTime === undefined || this.stopping.has(id)) return false;
    return this.watchedProcesses.has(`${id}:${facts.pid}:${facts.startTime}`);
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
      // Authoritative over any snapshot whose reads began before now (UnitTable.current).
      ctx.table.witnessed(id);
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
      const leave = () => {
        ctx.table.holds.set(id, clean ? { reason: 'exited' } : { reason: 'failed', digest: ctx.table.digest(id) ?? '' });
        transition(rt, clean ? 'inactive' : 'failed', clean ? 'dead' : 'failed');
      };
      const health = unit && healthOf(unit);
      if (unit && health) {
        this.raise(unit, health, { event: clean ? 'exited' : 'failed', why: `process ${proc.pid} ${how}`, short: `process ${how}`, problem: err, up: false, logged: true, leave });
      } else if (unit && behaviourOf(unit.kind).process?.restartOnExit(unit, exit)) {
        this.scheduleRestart(unit, `process ${how}`, err);
      } else if (unit) leave();
      ctx.table.announce(id);
      void ctx.reconcile(`${id} exited`);
    });
  }

  // ---- the health monitor -------------------------------------------------------------------------

  /**
   * An event of a unit with a health table: the level that handles it (escalated past the levels
   * that acted their limit within their window), counted on the unit, logged, and carried out.
   */
  private raise(unit: Unit, health: UnitHealth, ev: RaisedEvent): void {
    const { table } = this.ctx;
    const now = Date.now();
    const rt = table.runtime(unit.id);
    const decision = decide(health.table, rt.health?.taken ?? {}, ev.event, now) ?? { event: ev.event, level: 'log', action: 'log', passed: [] };
    rt.health = recordDecision(rt.health, health.table, decision, ev.why, now);
    this.logDecision(unit.id, decision, ev);
    this.act(unit, health, decision, ev);
    table.announce(unit.id);
  }

  /**
   * One line per event: `health: WHY; level L: ACTION (n of LIMIT in WINDOW)`. An event an old
   * policy field decided keeps the line that field always had (`WHY; onFailure: restart`), and
   * none where the event had its own line already (a failed job, a process exit).
   */
  private logDecision(id: string, d: HealthDecision, ev: RaisedEvent): void {
    const level: LogLine['level'] = d.action === 'ignore' ? 'debug' : ev.event === 'failed' ? 'error' : 'warn';
    if (d.legacy === undefined) this.ctx.table.log(level, id, `health: ${ev.why}; ${describeDecision(d)}`);
    else if (!ev.logged) this.ctx.table.log(level, id, `${ev.why}; ${d.legacy}`);
  }

  private act(unit: Unit, health: UnitHealth, d: HealthDecision, ev: RaisedEvent): void {
    const { table } = this.ctx;
    const deps = this.ctx.table.set?.deps.get(unit.id);
    switch (d.action) {
      case 'ignore':
      case 'log':
        ev.leave();
        return;
      case 'reload':
      case 'restart': {
        // A unit that is up is reloaded in place when its kind can (a cell keeps its CPUs and
        // configuration), else stopped and started; one that is down is started again.
        const how = !ev.up ? 'start' : d.action === 'reload' && canReload(unit.kind) ? 'reload' : 'restart';
        const requestWhy = d.legacy !== undefined ? `${d.legacy.replace(': ', ' ')}: ${ev.short}` : `health ${d.level}: ${ev.short}`;
        const backoff = backoffOf(unit);
        if (!backoff || !this.schedule(unit, backoff, ev.short, ev.problem, how, requestWhy)) ev.leave();
        return;
      }
      case 'stop':
        ev.leave();
        this.holdStopped(unit.id);
        break;
      case 'stop-dependents':
        ev.leave();
        for (const dep of table.set ? requiredByClosure(table.set, unit.id) : []) this.holdStopped(dep);
        break;
      case 'restart-dependents':
        ev.leave();
        for (const dep of deps?.requiredBy ?? []) table.requestRestart(dep);
        break;
      case 'stop-hypervisor':
        ev.leave();
        if (health.hypervisor !== undefined && table.unit(health.hypervisor)) this.holdStopped(health.hypervisor);
        break;
    }
    void this.ctx.reconcile(`health ${unit.id}: ${d.action}`);
  }

  /** Held down as by `crtosctl stop`: the next pass stops it and what requires it; a pending restart is dropped. */
  private holdStopped(id: string): void {
    this.ctx.table.holds.set(id, { reason: 'stopped' });
    this.cancelRestart(id);
  }

  /** Liveness results count while the unit is active, no job works on it and nothing holds it. */
  private isLive(id: string): boolean {
    const rt = this.ctx.table.existingRuntime(id);
    return !this.ctx.closed() && rt?.activeState === 'active' && rt.job === undefined && !this.ctx.table.holds.has(id);
  }

  private livenessFailed(id: string, failures: number, why: string): void {
    const unit = this.ctx.table.unit(id);
    const health = unit && healthOf(unit);
    if (!unit || !health) return;
    const err = problem('ENGINE_LIVENESS_FAILED', `liveness check failed ${failures} times in a row: ${why}`, {
      unit: id,
      hint: 'check what the unit runs; its `liveness:` says what is checked, `health:` what follows',
    });
    this.ctx.table.runtime(id).lastError = err;
    this.raise(unit, health, { event: 'liveness', why: `liveness failed ${failures} times (${why})`, short: 'liveness failed', problem: err, up: true, leave: () => undefined });
  }

  /**
   * A crash its hypervisor recovered by itself (remoteproc with recovery enabled): counted and
   * logged as the unit's `recovered` event, and whatever its table says done (by default nothing
   * more: the kernel did what was needed).
   */
  partitionRecovered(id: string, why: string): void {
    const unit = this.ctx.table.unit(id);
    const health = unit && healthOf(unit);
    if (!unit || !health) return;
    const err = problem('ENGINE_CELL_FAILED', `${why}`, { unit: id, hint: "see the partition's own log for why it crashed; `health: { on: { recovered: … } }` decides what follows" });
    this.raise(unit, health, { event: 'recovered', why, short: 'recovered after a crash', problem: err, up: true, leave: () => undefined });
  }

  /** Each unit with a liveness check is checked while it is active (as observed) and applied; the others are not. */
  private superviseLiveness(observed: ReadonlyMap<string, Observation>): void {
    const wanted = new Map<string, LivenessWant>();
    if (this.ctx.supervise && !this.ctx.closed()) {
      for (const [id, obs] of observed) {
        const unit = this.ctx.table.unit(id);
        if (!unit || obs.state !== 'active' || this.ctx.table.records.map.get(id)?.phase !== 'active') continue;
        const health = healthOf(unit);
        if (health?.liveness) wanted.set(id, { spec: health.liveness, env: { PATH: process.env.PATH ?? DEFAULT_PATH, ...(health.env ?? {}) } });
      }
    }
    this.liveness.sync(wanted);
  }

  /** The units whose liveness is being checked now. */
  checkedUnits(): string[] {
    return this.liveness.checked();
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

interface Backoff {
  restartSec: number;
  restartMaxSec: number;
}

interface RestartPolicy extends Backoff {
  onStartFailure: boolean;
}

const DEFAULT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** An event as the supervisor raises it for the health monitor. */
interface RaisedEvent {
  event: HealthEvent;
  /** The event in words, for the unit's log and its last event (`liveness failed 3 times (tcp …)`). */
  why: string;
  /** Short, for the restart line and the job it asks for (`cell failed`, `start failed`). */
  short: string;
  problem: Problem;
  /** The unit is still there (a failed or hung cell, a hung loader): a restart stops it first. */
  up: boolean;
  /** The event has a line of its own already (a failed job, a process exit). */
  logged?: boolean;
  /** What taking no action means for it: a failed start or an exited loader is held down. */
  leave(): void;
}

/** The unit's health monitor, when its kind has one. */
function healthOf(unit: Unit): UnitHealth | undefined {
  return behaviourOf(unit.kind).health?.(unit);
}

/** The unit's restart delays, when its spec has them. */
function backoffOf(unit: Unit): Backoff | undefined {
  const spec = unit.spec as { restartSec?: number; restartMaxSec?: number };
  return spec.restartSec === undefined || spec.restartMaxSec === undefined ? undefined : { restartSec: spec.restartSec, restartMaxSec: spec.restartMaxSec };
}

function restartPolicyOf(unit: Unit): RestartPolicy | undefined {
  const backoff = backoffOf(unit);
  if (backoff === undefined) return undefined;
  // A kind with a policy field of its own says whether it restarts; every other kind retries a
  // failed start.
  if (behaviourOf(unit.kind).restarts?.(unit) === false) return undefined;
  return { ...backoff, onStartFailure: true };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
