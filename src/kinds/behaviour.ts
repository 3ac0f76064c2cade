/**
 * The per-kind table of functions (systemd's unit vtable): how a kind is observed in a snapshot,
 * started, stopped and (cells) reloaded through the Host. Start functions resume: they skip what
 * the machine already shows done, so an interrupted start finishes instead of starting over.
 */
import type { Host, ToolCall } from '../host/host.js';
import type { Unit, UnitSet } from '../units/types.js';
import type { KindName } from './spec-common.js';
import type { Observation, Snapshot, UnitDescription, UnitFacts } from '../engine/types.js';

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
  /** Cells only: shutdown, load, start without destroying. */
  reload?(unit: Unit, ctx: KindContext): Promise<UnitFacts>;
}
