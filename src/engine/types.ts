/** The engine's own data: descriptions, applied records (the state file), observations, holds. */
import type { Problem } from '../errors/problem.js';
import type { KindName } from '../kinds/spec-common.js';
import type { InterfaceInfo, ModuleInfo, ProcessInfo } from '../host/host.js';
import type { BackendStatus } from '../backends/port.js';
import type { UnitDetails } from './manager-api.js';

/**
 * Facts derived at apply time that a later stop needs even when the unit file is gone; the state
 * file keeps them (JSON values). The engine's own are here: those of a unit that is a process.
 * Each kind declares the facts it records in its own folder (facts.ts) by augmenting this
 * interface (`declare module '…/engine/types.js'`), and so does a backend.
 */
export interface UnitFacts {
  /** A process unit (KindBehaviour.process): its main process. */
  pid?: number;
  startTime?: number;
  /**
   * A process unit: the INVOCATION_ID its process was started with, recorded before the spawn. A
   * daemon killed between spawn and recording the PID finds the process again by it (no second one).
   */
  invocationId?: string;
}

/**
 * What the engine computed a unit should be: a digest per top-level field (files that matter are
 * folded into the field that names them) and the facts read from those files.
 */
export interface UnitDescription {
  id: string;
  kind: KindName;
  fields: Record<string, string>;
  /** Digest over all fields: equal digests mean nothing to do. */
  digest: string;
  facts: UnitFacts;
  /** Why the description is incomplete (an unreadable .cell file): starting the unit fails with it. */
  problem?: Problem;
  /**
   * A problem of the unit files themselves that only the machine's files reveal (an inline cell
   * configuration whose revision does not match the system configuration): the set is refused as
   * a load error, so nothing of it runs. Also set as `problem`.
   */
  unitFileError?: Problem;
  /** Cell with an inline configuration: its encoded bytes and the machine path they are written to. */
  inlineConfig?: { path: string; bytes: Uint8Array };
  /**
   * Fields whose change applies only together with a change of another unit (by field, that unit's
   * id): a cell's links reach it with the re-enable that gives them to the root cell. While that
   * unit's change is held (Plan.pending), so is this unit's.
   */
  heldWith?: Record<string, string>;
}

/** One unit as the state file keeps it: what was applied, so a restarted daemon can adopt it. */
export interface AppliedRecord {
  id: string;
  kind: KindName;
  digest: string;
  fields: Record<string, string>;
  facts: UnitFacts;
  /** Units it was ordered after, so a removed unit is stopped in the right order. */
  after: string[];
  /** Units it required, so the dependents of a removed unit are stopped before it. */
  requires: string[];
  /** starting: written before the host was touched; active: the start finished. */
  phase: 'starting' | 'active';
  /** When the record was last written, ms since the epoch. */
  updated: number;
}

export type ObservedState = 'active' | 'inactive' | 'partial' | 'failed';

export interface Observation {
  state: ObservedState;
  subState: string;
  details: UnitDetails;
  /** Why a unit observed `failed` is failed, when the machine shows it (an image with other bytes). */
  problem?: Problem;
}

/** Everything observe reads from the machine in one pass. */
export interface Snapshot {
  /** Each backend's own state (its partitions), by backend type; a backend without observe has none. */
  backends: ReadonlyMap<string, BackendStatus>;
  modules: ReadonlyMap<string, ModuleInfo>;
  onlineCpus: number[];
  /** Only read when Network units exist (it spawns `ip`). */
  interfaces?: ReadonlyMap<string, InterfaceInfo>;
  /**
   * By unit id, for loaders with a recorded process, and for loaders recorded with an invocation id
   * but no PID when the snapshot was asked to look them up (the process found by INVOCATION_ID).
   */
  processes: ReadonlyMap<string, ProcessInfo | undefined>;
  /** Device nodes and files checked for existence. */
  paths: ReadonlyMap<string, boolean>;
  /** sha256 of files whose contents observe compares (an RTMux image in place); undefined: unreadable. */
  digests?: ReadonlyMap<string, string | undefined>;
}

/**
 * Engine memory that keeps a unit down although its file says up: a manual stop, a failed start
 * that is not retried, a loader that exited for good, an exhausted start limit.
 */
export interface Hold {
  /** masked: a masked unit (masks.ts), in the holds a plan goes by only (UnitTable.planHolds). */
  reason: 'stopped' | 'failed' | 'exited' | 'start-limit' | 'restart-pending' | 'masked';
  /** For failed: the description digest that failed; a new description lifts the hold. */
  digest?: string;
}
