/**
 * The backend port: what the engine needs from a partitioning hypervisor (Jailhouse, RTMux, a test
 * backend), so that no file outside a backend's folder knows which one runs.
 *
 * A backend has two halves, as a kind has (src/kinds/): its definition is pure (the Hypervisor
 * unit fields it takes, their references, files and change table, and the check of the cells that
 * run on it) and is what crtosctl and `validate` load; the backend itself acts on the machine
 * through the Host and is loaded by the engine only (src/backends/index.ts).
 *
 * The Host keeps the raw effects (tools run by argv, files, processes); what those effects mean for
 * one hypervisor (which sysfs file is a cell's state, which errno means "already done") lives here.
 */
import type { z } from 'zod';
import type { CellImage, Host, ModuleInfo, ToolCall } from '../host/host.js';
import type { Problem } from '../errors/problem.js';
import type { CommonSpec, Unit } from '../units/types.js';
import type { ChangeAction, FileReference, UnitReference } from '../kinds/spec-common.js';
import type { ObservedState, UnitFacts } from '../engine/types.js';
import type { DescribeContext, KindContext, KindDescription, StopContext, Target } from '../kinds/behaviour.js';
import type { CheckContext } from '../transaction/context.js';

// ---- the pure half: what a unit file may say -----------------------------------------------------

/** The fields every Hypervisor unit has besides its backend's: the common ones and `type`. */
export type HypervisorCommon = CommonSpec & { type: string; reEnableOnChange: boolean; restartSec: number; restartMaxSec: number };

/** A Hypervisor unit as its backend sees it: `Spec` is the output of the backend's own fields. */
export type HypervisorUnit<Spec = Record<string, unknown>> = Unit<HypervisorCommon & Spec>;

export interface BackendDefinition<Fields extends z.ZodRawShape = z.ZodRawShape> {
  /** The `type:` of the Hypervisor units it runs (`jailhouse`). */
  type: string;
  /** How people name it in messages (`Jailhouse`). */
  title: string;
  /**
   * The Hypervisor unit fields it takes besides the common ones, `type` and the retry fields, in
   * the order the JSON Schema lists them. The Hypervisor kind builds `type:`'s variant from them.
   */
  fields: Fields;
  references(spec: z.output<z.ZodObject<Fields>>): UnitReference[];
  files(spec: z.output<z.ZodObject<Fields>>): FileReference[];
  /** What a change of each of its fields needs. */
  changes: Record<keyof Fields & string, ChangeAction>;
  /**
   * Present exactly when it runs cells (`async () => []` when nothing can be checked): the check of the cells given to one of its hypervisors (their
   * configurations decode, fit the system and each other), as `validate` and the daemon run it
   * before a set is applied. Loaded lazily by the backend, so sets without cells stay light.
   */
  checkCells?(ctx: CheckContext, hypervisor: HypervisorUnit, cells: readonly Unit[]): Promise<Problem[]>;
  /**
   * Present when a cell on it may write its configuration inline as a mapping of this backend's own
   * (remoteproc: the processor and its settings): the schema of that mapping, tried before
   * Jailhouse's inline configuration in the Cell's `config` (src/kinds/cell/spec.ts).
   */
  partitions?: { inlineConfig: z.ZodType };
  /**
   * Present when it carries Link units: the link `type:`s it makes, and the check of the links of
   * one of its hypervisors (where each goes, PCI addresses, what the peers can take), as `validate`
   * and the daemon run it before a set is applied.
   */
  links?: {
    types: readonly LinkTypeDefinition[];
    check(ctx: CheckContext, hypervisor: HypervisorUnit, links: readonly Unit[]): Promise<Problem[]>;
  };
}

/** A `type:` of Link unit a backend makes: the fields it takes besides the Link kind's own. */
export interface LinkTypeDefinition<Fields extends z.ZodRawShape = z.ZodRawShape> {
  type: string;
  /** How people name it (`an ivshmem v2 shared-memory device (Jailhouse)`). */
  title: string;
  fields: Fields;
  changes: Record<keyof Fields & string, ChangeAction>;
  /** The values other units may take from such a link (`{ link: NAME, fact: … }`), given its spec. */
  facts(spec: z.output<z.ZodObject<Fields>>): string[];
  /** Device nodes such a link makes exist once it is up (an rpmsg tty), which other units may name. */
  provides?(spec: z.output<z.ZodObject<Fields>>): string[];
}

// ---- what a backend observes ---------------------------------------------------------------------

/** What a cell can be, whatever the backend calls it. */
export type PartitionPhase = 'running' | 'shut-down' | 'failed';

/** One partition (a Jailhouse cell) as its backend sees it; the hypervisor's own (the root cell) is not one. */
export interface Partition {
  /** The backend's number for it (a Jailhouse cell id). */
  id: number;
  name: string;
  /** Exactly the backend's word for its state (`running/locked`, `Comm ABI mismatch`), for people. */
  state: string;
  phase: PartitionPhase;
  cpus: number[];
  failedCpus: number[];
  /** The last crash dump crtosd kept of it (a machine path), when its backend keeps them. */
  coredump?: string;
}

/** One read of a backend's state, taken with every snapshot (Snapshot.backends, by backend type). */
export interface BackendStatus {
  /** The hypervisor is up (Jailhouse: `enabled` reads 1). */
  enabled: boolean;
  partitions: Partition[];
}

/** What observe reads of the machine besides the backends' status (a structural part of engine Snapshot). */
export interface BackendSnapshot {
  backends: ReadonlyMap<string, BackendStatus>;
  modules: ReadonlyMap<string, ModuleInfo>;
  digests?: ReadonlyMap<string, string | undefined>;
}

/** A hypervisor between two states: why, and how long a pass waits for it to settle at most. */
export interface Transition {
  why: string;
  waitMs: number;
  /**
   * The partition the hypervisor is bringing back by itself (the kernel recovering a crashed
   * processor): once it settled, that is the partition's `recovered` health event.
   */
  recovering?: string;
}

/** What the Hypervisor kind reports of its unit; the kind adds its details. */
export interface HypervisorObservation {
  state: ObservedState;
  subState: string;
  enabled: boolean;
}

/**
 * HypervisorPort.observe of a backend whose hypervisor is up exactly when its status says enabled
 * (`activeSubState` once up, `dead` otherwise).
 */
export function observeEnabled(type: string, activeSubState: string): HypervisorPort['observe'] {
  return (_target, snap) => {
    const enabled = snap.backends.get(type)?.enabled ?? false;
    return enabled ? { state: 'active', subState: activeSubState, enabled } : { state: 'inactive', subState: 'dead', enabled };
  };
}

// ---- the engine half: acting on the machine -------------------------------------------------------

/** What a Hypervisor unit on this backend does; the Hypervisor kind's behaviour delegates here. */
export interface HypervisorPort {
  /** The sub-state observe reports once a start completed (`enabled`, `running`). */
  activeSubState: string;
  observe(target: Target, snap: BackendSnapshot): HypervisorObservation;
  /** Machine paths whose sha256 observe needs (an RTMux image in place). */
  digests?(target: Target): string[];
  /** What a start can check without touching the machine (see KindBehaviour.stage). */
  stage?(unit: HypervisorUnit, ctx: KindContext): Promise<void>;
  /** Brings the hypervisor up from whatever state (resumable); returns facts to record. */
  enable(unit: HypervisorUnit, ctx: KindContext): Promise<UnitFacts>;
  /** Takes it down, from whatever state; tolerant of it being down already. */
  disable(target: Target, ctx: StopContext): Promise<void>;
}

/** The partition operations, each one tool run, named as `commands` says. */
export type PartitionOp = 'create' | 'load' | 'start' | 'shutdown' | 'destroy';

/** How a backend runs cells. Errors are the Host's (HostError with an errno); the cell kind interprets them. */
export interface PartitionPort {
  /** Each operation as people know it, for logs and errors (`jailhouse cell create`). */
  commands: Readonly<Record<PartitionOp, string>>;
  /** Where to look when a cell failed (the hint of ENGINE_CELL_FAILED). */
  failureHint: string;
  /**
   * What a cell's configuration says: its `config` field's value in the digest (the file's
   * contents), the cell's name and CPUs (facts cellName, cpus), the bytes to create it from
   * (inlineConfig). `hypervisor` is undefined when the cell's hypervisor is missing or runs no
   * cells; `hypervisorId` names it either way.
   */
  describe(cell: Unit, hypervisor: HypervisorUnit | undefined, hypervisorId: string, ctx: DescribeContext): Promise<KindDescription>;
  /**
   * Creates the partition from the configuration at that machine path and confirms one named
   * `name` appeared. Rejects with errno EEXIST when one of that name exists.
   */
  create(host: Host, config: string, name: string, call?: ToolCall): Promise<void>;
  load(host: Host, name: string, images: CellImage[], call?: ToolCall): Promise<void>;
  start(host: Host, name: string, call?: ToolCall): Promise<void>;
  shutdown(host: Host, name: string, call?: ToolCall): Promise<void>;
  /** Rejects with errno ENOENT when it is gone already. */
  destroy(host: Host, name: string, call?: ToolCall): Promise<void>;
  /**
   * The operations for one cell, given the facts its description recorded, for a backend whose
   * operations need more than a name and a configuration path (remoteproc: where its firmware is
   * installed, its recovery and coredump settings). Absent: the operations are the same for all.
   */
  bind?(facts: UnitFacts): PartitionPort;
}

export interface Backend {
  definition: BackendDefinition;
  /**
   * Jobs of units on this backend that serialize on one lock (Jailhouse's driver takes one
   * command at a time): the planner runs at most maxLockedJobs of a group at once. None: no limit.
   */
  lockGroup?: string;
  /** Its state, read once per snapshot; none for a backend whose state is the snapshot's (modules). */
  observe?(host: Host): Promise<BackendStatus>;
  /**
   * The poll between passes: whether a cheap read of the machine differs from `seen`, the status
   * the last pass observed. Rejects when the read fails (the next poll tries again).
   */
  changed?(host: Host, seen: BackendStatus): Promise<boolean>;
  /** Whether the hypervisor is between two states, given the cells crtosd runs on it. */
  transition?(status: BackendStatus, runningCells: readonly string[]): Transition | undefined;
  /**
   * Keeps what the machine leaves behind about the partitions crtosd runs before it is gone (the
   * kernel's crash dumps, deleted after minutes; one also holds a recovery until it is read), run
   * through the Host after each pass's look at the machine. Returns what it kept, by partition name.
   */
  collect?(host: Host, status: BackendStatus, runningCells: readonly string[]): Promise<{ partition: string; message: string }[]>;
  /** What the Hypervisor unit folds into its description (the system configuration's bytes) and the facts a stop needs. */
  describe?(hypervisor: HypervisorUnit, ctx: DescribeContext): Promise<KindDescription>;
  hypervisor: HypervisorPort;
  /** Present when it runs cells. */
  partitions?: PartitionPort;
  /** Present when it carries links (BackendDefinition.links). */
  links?: LinkPort;
}

/** What a link is once its backend placed it, for its description and the units that take its facts. */
export interface LinkPlacement {
  /** The values other units may take (`rwAddress`: '0x100001000', `pci`: '00:0e.0'), as text. */
  facts: Readonly<Record<string, string>> & { size?: string; footprint?: string };
  /** The machine path that shows the link's device in the root cell, when Linux is a peer. */
  device?: string;
}

export interface LinkPort {
  /**
   * Where the link goes (memory, PCI address) and what that gives other units, computed with the
   * configurations of its hypervisor (once per description of a set); a problem when it cannot be
   * placed (the set's check has said why already).
   */
  place(link: Unit, hypervisor: HypervisorUnit, ctx: DescribeContext): Promise<LinkPlacement | { problem: Problem }>;
}
