/**
 * The contract between the engine (which keeps the machine equal to the unit files) and its
 * observers: the D-Bus service, crtosd's log and `--once` output. The engine implements
 * ManagerApi; src/dbus/ consumes it and knows nothing else of the engine.
 *
 * Value sets follow systemd's (load, active and sub states; job types and results) so that users
 * read our states as they read systemctl's.
 */
import type { LoaderLine } from './loader-output.js';
import type { Problem } from '../errors/problem.js';
import type { KindName } from '../kinds/spec-common.js';
import type { Details } from '../kinds/view.js';
import type { UnitDependencies } from '../units/types.js';

/** masked: the unit is masked (src/engine/masks.ts) and is not started. */
export type LoadState = 'loaded' | 'not-found' | 'bad-setting' | 'error' | 'masked';
export type ActiveState = 'inactive' | 'activating' | 'active' | 'deactivating' | 'failed' | 'reloading';
/** Why the unit is in its state after the last job: systemd's Result values plus our own. */
export type UnitResult =
  | 'success'
  | 'dependency'
  | 'exit-code'
  | 'signal'
  | 'timeout'
  | 'start-limit-hit'
  | 'resources'
  | 'protocol'
  | 'core-dump';

export type JobType = 'start' | 'stop' | 'restart' | 'reload';
/** JobRemoved result strings, as systemd's. */
export type JobResult = 'done' | 'canceled' | 'timeout' | 'failed' | 'dependency' | 'skipped';

export interface JobInfo {
  id: number;
  unit: string;
  type: JobType;
  state: 'waiting' | 'running';
}

/** Microseconds since the epoch (CLOCK_REALTIME, as systemd's timestamps on the bus); 0 = never. */
export type UsecTimestamp = number;

/** When the unit last changed state, left inactive (began activating), became active, left active, became inactive or failed. */
export interface TransitionTimes {
  stateChange: UsecTimestamp;
  inactiveExit: UsecTimestamp;
  activeEnter: UsecTimestamp;
  activeExit: UsecTimestamp;
  inactiveEnter: UsecTimestamp;
}

/** The transition times on CLOCK_REALTIME, and `monotonic`: the same instants in µs since boot (systemd's …TimestampMonotonic). */
export interface UnitTimestamps extends TransitionTimes {
  monotonic: TransitionTimes;
}

/**
 * One operation of a unit's last bring-up (its last start or reload job), as `crtosctl analyze
 * plot` draws it inside the unit's bar: a Host action (a tool run, a file installed, a process
 * spawned, readiness probes), when it began and ended on CLOCK_MONOTONIC (µs).
 */
export interface TimelineOperation {
  unit: string;
  job: number;
  jobType: JobType;
  /** The Host operation: createCell, loadModule, installFile, spawn, probeTcp, … */
  operation: string;
  /** What it ran or touched: the tool's command line, the file, the address (shortened). */
  detail: string;
  start: UsecTimestamp;
  /** 0 while it runs. */
  end: UsecTimestamp;
  result: 'running' | 'done' | 'failed';
}

/**
 * Kind-specific facts for `crtosctl status` and the kind's D-Bus interface: `kind` plus the fields
 * the kind's view (src/kinds/NAME/view.ts) declares.
 */
export type UnitDetails = Details;

/** A unit as observers see it; its dependencies are those of the loaded set (implicit edges included). */
export interface UnitStatus extends UnitDependencies {
  id: string;
  kind: KindName;
  description: string;
  loadState: LoadState;
  activeState: ActiveState;
  /** Kind-specific: running, dead, loaded, created, waiting, auto-restart, … */
  subState: string;
  result: UnitResult;
  timestamps: UnitTimestamps;
  sourcePath: string;
  dropInPaths: string[];
  /** The last error of this unit (a failed operation, a load problem), if any. */
  lastError?: Problem;
  /** The queued or running job, if any. */
  job?: JobInfo;
  /** A change of its unit file held until the operator asks for it (`re-enable (field links changed); apply with …`). */
  pendingChange?: string;
  /**
   * Set when the unit does not run on this machine: `condition failed: board "…" (board is "…")`,
   * or `skipped: requires X, whose condition failed` (D-Bus ConditionResult false, ConditionText).
   */
  condition?: string;
  details: UnitDetails;
}

export interface DaemonStatus {
  version: string;
  unitDirectories: string[];
  /** Problems of the last load that were not applied (the previous good set keeps running). */
  lastLoadErrors: Problem[];
  /** When the last observe → plan → apply pass finished, UsecTimestamp. */
  lastReconcile: UsecTimestamp;
  /** 'starting' | 'running' (converged) | 'degraded' (some unit failed) | 'stopping'. */
  systemState: 'starting' | 'running' | 'degraded' | 'stopping';
}

export interface LogLine {
  time: UsecTimestamp;
  level: 'debug' | 'info' | 'warn' | 'error';
  unit?: string;
  message: string;
}

/** One step a reload would take, for `crtosctl plan`. */
export interface PlannedStep {
  unit: string;
  /** pending: held until the operator asks (a re-enable), or waiting for such a change; nothing is done now. */
  action: 'start' | 'stop' | 'restart' | 'reload' | 'recreate' | 're-enable' | 'pending';
  /** Why, e.g. "field load changed", "requires nuttx.cell, which is re-created". */
  reason: string;
}

export interface ReloadOutcome {
  ok: boolean;
  /** Load problems when !ok; nothing was applied then. */
  problems: Problem[];
  steps: PlannedStep[];
}

export interface ManagerEvents {
  /** A unit's status changed (any field). */
  unitChanged: [status: UnitStatus];
  unitNew: [id: string];
  unitRemoved: [id: string];
  jobNew: [job: JobInfo];
  jobRemoved: [job: JobInfo, result: JobResult];
  /** The daemon's own status changed (a reload, a reconcile pass, a load error). */
  daemonChanged: [status: DaemonStatus];
  log: [line: LogLine];
  /** A line a loader wrote (also in its unit's log as `PROGRAM[PID]: line`), for crtosd's journal sink. */
  loaderOutput: [line: LoaderLine];
}

export interface ManagerApi {
  daemon(): DaemonStatus;
  listUnits(): UnitStatus[];
  /** The ids listUnits() would list, without building each status (counting, naming child objects). */
  unitIds(): string[];
  getUnit(id: string): UnitStatus | undefined;
  /**
   * Queue a job and return it at once (as systemd's StartUnit returns the job path); its end is
   * announced by the `jobRemoved` event. Rejects with a ProblemError (code ENGINE_NO_SUCH_UNIT) for
   * an unknown unit.
   */
  enqueue(id: string, type: JobType): JobInfo;
  /** Re-read the unit files; applied only when they load without errors. */
  reload(): Promise<ReloadOutcome>;
  /** What a reload would do, without doing it. */
  planReload(): Promise<ReloadOutcome>;
  /** The unit's recent log lines, oldest first. */
  unitLog(id: string, lines: number): LogLine[];
  /** The operations of each unit's last bring-up, by start time. */
  timeline(): TimelineOperation[];
  on<E extends keyof ManagerEvents>(event: E, listener: (...args: ManagerEvents[E]) => void): unknown;
  off<E extends keyof ManagerEvents>(event: E, listener: (...args: ManagerEvents[E]) => void): unknown;
}
