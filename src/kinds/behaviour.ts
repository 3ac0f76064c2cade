/**
 * The per-kind table of functions (systemd's unit vtable): how a kind is described, observed in a
 * snapshot, started, stopped and (cells) reloaded through the Host, and the policies the engine
 * reads of it (restarts, failures, lock group, launch cost). Start functions resume: they skip
 * what the machine already shows done, so an interrupted start finishes instead of starting over.
 *
 * Generic engine code never tests a unit's kind by name: it asks the kind's behaviour (through
 * behaviourOf in behaviours.ts) for one of the capabilities below. A new kind implements observe,
 * activeSubState, start and stop, and the optional hooks whose behaviour it needs.
 */
import type { ExitStatus, Host, ProcessIdentity, ToolCall } from '../host/host.js';
import type { Unit, UnitSet } from '../units/types.js';
import type { KindName } from './spec-common.js';
import type { Details } from './view.js';
import type { Problem } from '../errors/problem.js';
import type { ValuePath } from '../units/yaml-source.js';
import type { Observation, Snapshot, UnitDescription, UnitFacts } from '../engine/types.js';
import type { UnitHealth } from '../engine/health/table.js';

/** The environment variable a process unit's invocation id is passed in (systemd's name for it). */
export const INVOCATION_ENV = 'INVOCATION_ID';

/** What observe and stop know of a unit: the unit when it is in the set, its facts always. */
export interface Target {
  id: string;
  kind: KindName;
  unit?: Unit;
  facts: UnitFacts;
}

export interface KindContext {
  host: Host;
  set: UnitSet;
  desc: UnitDescription;
  /**
   * Bounds a host operation by `ms`; rejects with an ENGINE_TIMEOUT ProblemError naming `what` and
   * the timeout when it takes longer. Give an operation that runs a tool as a function of the
   * ToolCall it passes to the Host: then the tool is killed with its process group at the
   * deadline (and recorded in the state directory while it runs), and the rejection comes once it
   * is gone, so nothing finishes behind the unit's back.
   */
  timed: Timed;
  sleep(ms: number): Promise<void>;
  /** Environment a loader starts with besides its own variables (PATH). */
  baseEnv: Record<string, string>;
  /** Loader: the invocation id recorded for this start, passed to the process as INVOCATION_ID. */
  invocationId?: string;
  /** Where a loader's stdout/stderr go, undefined: nowhere. */
  logFile?: string;
  /**
   * Loader: the facts of the last run still recorded (its main process ended while no crtosd
   * watched), so what it left behind is stopped first.
   */
  previous?: UnitFacts;
  /**
   * The facts of the instance this start replaces, when its own stop ran just before in the same
   * plan (a cell re-created for a new configuration): what to put back if the new one is refused.
   */
  replaced?: UnitFacts;
  log(message: string): void;
}

export type Timed = <T>(op: Promise<T> | ((call: ToolCall) => Promise<T>), ms: number, what: string) => Promise<T>;

export interface StopContext {
  host: Host;
  timed: Timed;
  sleep(ms: number): Promise<void>;
  log(message: string): void;
}

export interface KindBehaviour {
  observe(target: Target, snap: Snapshot): Observation;
  /** The sub-state observe reports for this unit once a start completed (`enabled`, `loaded`, …). */
  activeSubState(unit: Unit): string;
  /** Machine paths observe needs to know exist (a driver's device nodes). */
  paths?(target: Target): string[];
  /** Machine paths whose sha256 observe needs (an RTMux image in place). Read on every observe: keep them small. */
  digests?(target: Target): string[];
  /**
   * What a start or reload can check without touching the machine (images verify, the cell's name
   * is known). Run for every start and reload of a plan before any of its jobs, so a change that
   * would fail there stops nothing that runs (not even the units that require this one).
   */
  stage?(unit: Unit, ctx: KindContext): Promise<void>;
  /** Bring the unit up from whatever state it is in; returns facts to record. */
  start(unit: Unit, ctx: KindContext): Promise<UnitFacts>;
  /** Take the unit down completely, from whatever state; tolerant of parts already gone. */
  stop(target: Target, ctx: StopContext): Promise<void>;
  /**
   * Reload in place (a cell: shutdown, load, start without destroying it). Kinds without it are
   * restarted where their change table says 'reload', and a manual reload of them is refused.
   */
  reload?(unit: Unit, ctx: KindContext): Promise<UnitFacts>;
  /** What a reload does, in the operator's words (`shutdown, load, start`): named when a reload of another kind is refused. */
  reloadSteps?: string;

  /**
   * What the unit should be beyond its spec's own fields (description.ts folds the result into
   * the unit's digest): the contents of the files it names folded into the fields that name
   * them, and the facts read from them that a later stop needs. Without it, the spec is the
   * description and there are no facts.
   */
  describe?(unit: Unit, ctx: DescribeContext): Promise<KindDescription>;
  /** Observe needs the machine's interfaces (`ip addr show`, a tool run): read only when a unit of such a kind is known. */
  observesInterfaces?: boolean;
  /**
   * The unit is a Linux process crtosd spawns (a loader): the engine records its main process in
   * the facts (pid, startTime, and the invocationId it is started with), finds it again after a
   * daemon restart, watches it exit and follows its output file.
   */
  process?: ProcessBehaviour;
  /**
   * The facts recorded for a unit adopted as found running: by default what was recorded over what
   * the description says. A kind whose facts the machine itself names (a cell's name) says which wins.
   */
  adoptFacts?(described: UnitFacts, recorded: UnitFacts | undefined): UnitFacts;
  /**
   * A start the previous daemon began and did not see through, found active: start() finishes
   * what is left (a cell's readiness probe) instead of the unit being adopted as it is. A real
   * RTOS listens a while after `cell start` returned; a dependent must not start before it does.
   */
  resumesStart?: boolean;
  /**
   * The lock its jobs serialize on, if any (every jailhouse command takes the driver's one lock):
   * at most maxLockedJobs jobs of one group run at once. Asked of the unit or, once it is removed
   * from the set, of what was recorded.
   */
  lockGroup?(target: Target): string | undefined;
  /**
   * The partition a unit runs as, from what was recorded of it (a cell: its backend and name), so
   * the engine can tell a hypervisor in transition from one whose partitions crtosd runs are gone.
   */
  partitionOf?(facts: UnitFacts): { backend: string; name: string } | undefined;
  /**
   * Tool runs a start or reload takes (default 1), for the launch order: costly jobs go first so
   * cheap ones fill in around them (a cell's start is three jailhouse commands in a row; 0: none).
   */
  launchCost?: number;
  /**
   * Whether a failed start (and a failure while it runs) is tried again with back-off by the
   * unit's restartSec/restartMaxSec/startLimit. Default: whenever the spec has restartSec and
   * restartMaxSec. A kind with its own policy field says it; a kind with a health table (see
   * `health`) is not asked.
   */
  restarts?(unit: Unit): boolean;
  /**
   * A unit that runs and is observed `failed` (a cell whose inmate faulted): the problem to report
   * and what its policy does (restart: reload it in place when the kind reloads, else restart;
   * stop: hold it and its dependents down). `facts` are the unit's recorded ones (the backend a
   * cell runs on). Kinds without it are left to the next start.
   */
  onObservedFailure?(unit: Unit, obs: Observation, facts: UnitFacts): ObservedFailure;
  /**
   * The unit's health monitor (src/engine/health/): its table (what each event it raises leads to:
   * its `health:` over what its old policy field says), its liveness check, and whom its actions
   * reach beyond it. A kind with it is supervised by its table: `restarts` and the `action` of
   * onObservedFailure are not asked.
   */
  health?(unit: Unit): UnitHealth;
}

export interface ObservedFailure {
  problem: Problem;
  /** What a kind without a health table does (`health` decides for the others). */
  action?: 'none' | 'restart' | 'stop';
  /** For the logs: `cell failed; restarting in 1000 ms`. */
  why: string;
}

export interface ProcessBehaviour {
  /** How its output lines are labelled in the unit's log (the program's base name, as the journal labels them). */
  label(unit: Unit): string;
  /** Whether the unit starts again after its main process exited so, by its restart policy. */
  restartOnExit(unit: Unit, exit: ExitStatus): boolean;
  /**
   * What its main process left behind goes too (a wrapper's children), as systemd stops what remains
   * of a service once its main process exited; resolves with how many processes there were.
   */
  stopLeftovers(id: string, main: ProcessIdentity, facts: UnitFacts, ctx: Pick<StopContext, 'host' | 'sleep' | 'log'>): Promise<number>;
  /** What the unit shows right after its start, before the next observation (its MainPID). */
  startedDetails(pid: number, restarts: number): Details;
}

/** What describe reads through: the set, the machine's files (each read once per description of a set). */
export interface DescribeContext {
  set: UnitSet;
  /** A machine file's sha256 and bytes, or why it cannot be read. */
  file(machinePath: string): Promise<{ hash?: string; bytes?: Buffer; error?: string }>;
  /** Where a value of the unit's YAML is (unit file or drop-in), so problems point at it. */
  locate(unit: Unit, path: ValuePath): { file: string; line: number; column: number };
  /** A value computed once per description of a set and shared by its units (a decoded system configuration). */
  shared<T>(key: string, make: () => Promise<T>): Promise<T>;
  /** The facts recorded when the unit was last applied (where the running hypervisor has its links), if any. */
  recorded(id: string): UnitFacts | undefined;
}

export interface KindDescription {
  /** Values replacing the spec's own for these top-level fields (a file's path with its contents' digest). */
  fields?: Record<string, unknown>;
  facts?: UnitFacts;
  /** Why the description is incomplete (an unreadable .cell file): starting the unit fails with it. */
  problem?: Problem;
  /** The problem is one of the unit files (see UnitDescription.unitFileError): the set is refused. */
  unitFileError?: boolean;
  inlineConfig?: UnitDescription['inlineConfig'];
  heldWith?: UnitDescription['heldWith'];
}
