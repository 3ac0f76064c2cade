/**
 * observe(): one read of the machine for every unit the engine knows (in the set or recorded).
 * Cheap on purpose (sysfs, /proc/modules, a few stat calls); `ip` runs only when units of a kind
 * that observes interfaces exist (networks), bounded (InterfaceProbe), and processes are read only
 * for recorded process units (loaders).
 */
import type { Host, InterfaceInfo, JailhouseStatus, ModuleInfo, ProcessInfo, ToolRunObserver } from '../host/host.js';
import { behaviourOf, INVOCATION_ENV, type Target } from '../kinds/behaviours.js';
import type { Observation, Snapshot } from './types.js';
import { sha256 } from './canonical.js';

export interface SnapshotOptions {
  /**
   * Which process units (a loader) recorded with an invocation id but no PID to look up by
   * INVOCATION_ID (a scan of /proc); default all. The engine skips ids it spawned itself or
   * already looked up.
   */
  findByInvocation?: (target: Target) => boolean;
  /** How `ip addr show` runs for the units that observe interfaces; default a bounded probe that reports nothing. */
  interfaces?: InterfaceProbe;
  /** Awaited before the machine is read (a restarted daemon first settles its predecessor's tools). */
  before?: () => Promise<void>;
}

/** How long observation waits for `ip addr show` before it kills it: it answers in milliseconds. */
export const PROBE_TIMEOUT_MS = 2000;

export interface InterfaceProbeOptions {
  timeoutMs?: number;
  /** Records the probe's tool process while it runs (given its deadline). */
  runs?: (deadline: number) => ToolRunObserver;
  /** One line for the units that need the probe, when it hung or failed. */
  warn?: (units: readonly string[], message: string) => void;
}

/**
 * `ip addr show` for observation: bounded by a short timeout and killed with its process group
 * when it passes, so a hung `ip` holds a pass up for that long at most, not for the host's tool
 * limit. On a timeout or a failure the Network units keep the last interfaces seen (or, with none
 * yet, see none), with a warning; every other unit is observed as usual.
 */
export class InterfaceProbe {
  private last: InterfaceInfo[] | undefined;

  constructor(private readonly opts: InterfaceProbeOptions = {}) {}

  async read(host: Host, units: readonly string[]): Promise<InterfaceInfo[]> {
    const ms = this.opts.timeoutMs ?? PROBE_TIMEOUT_MS;
    const signal = AbortSignal.timeout(ms);
    try {
      this.last = await host.interfaces({ signal, runs: this.opts.runs?.(Date.now() + ms) });
      return this.last;
    } catch (e) {
      const why = signal.aborted ? `\`ip addr show\` did not answer within ${ms} ms and was killed` : `\`ip addr show\` failed: ${(e as Error).message}`;
      this.opts.warn?.(units, `${why}; ${this.last ? 'the interfaces stay as last observed' : 'no interfaces were observed yet, so none are known'}`);
      return this.last ?? [];
    }
  }
}

const defaultProbe = new WeakMap<Host, InterfaceProbe>();

/**
 * A process unit recorded with an invocation id but no PID: the last daemon died between the spawn
 * and recording it, so its process is looked for by INVOCATION_ID.
 */
export function unrecordedProcess(target: Target): boolean {
  return behaviourOf(target.kind).process !== undefined && target.facts.pid === undefined && target.facts.invocationId !== undefined;
}

export async function takeSnapshot(host: Host, targets: readonly Target[], opts: SnapshotOptions = {}): Promise<Snapshot> {
  await opts.before?.();
  const networks = targets.filter((t) => behaviourOf(t.kind).observesInterfaces === true).map((t) => t.id);
  const needInterfaces = networks.length > 0;
  let probe = opts.interfaces ?? defaultProbe.get(host);
  if (!probe) defaultProbe.set(host, (probe = new InterfaceProbe()));
  const loaders = targets.filter((t) => behaviourOf(t.kind).process !== undefined && t.facts.pid !== undefined && t.facts.startTime !== undefined);
  const unrecorded = targets.filter((t) => unrecordedProcess(t) && (opts.findByInvocation?.(t) ?? true));
  const pathList = [...new Set(targets.flatMap((t) => behaviourOf(t.kind).paths?.(t) ?? []))];
  const digestList = [...new Set(targets.flatMap((t) => behaviourOf(t.kind).digests?.(t) ?? []))];
  const [jailhouse, modules, onlineCpus, interfaces, processes, paths, digests] = await Promise.all([
    host.jailhouse(),
    host.modules(),
    host.onlineCpus(),
    needInterfaces ? probe.read(host, networks) : Promise.resolve(undefined),
    Promise.all([
      ...loaders.map(async (t) => [t.id, await host.process({ pid: t.facts.pid!, startTime: t.facts.startTime! })] as const),
      ...unrecorded.map(async (t) => [t.id, await host.findProcessByEnv(INVOCATION_ENV, t.facts.invocationId!)] as const),
    ]),
    Promise.all(pathList.map(async (p) => [p, await host.exists(p)] as const)),
    Promise.all(digestList.map(async (p) => [p, await host.readFile(p).then(sha256, () => undefined)] as const)),
  ]);
  return {
    jailhouse,
    modules: new Map(modules.map((m: ModuleInfo) => [m.name, m])),
    onlineCpus,
    ...(interfaces ? { interfaces: new Map(interfaces.map((i) => [i.name, i])) } : {}),
    processes: new Map<string, ProcessInfo | undefined>(processes),
    paths: new Map(paths),
    ...(digestList.length > 0 ? { digests: new Map(digests) } : {}),
  };
}

export function observeAll(snap: Snapshot, targets: readonly Target[]): Map<string, Observation> {
  return new Map(targets.map((t) => [t.id, behaviourOf(t.kind).observe(t, snap)]));
}

/** A hypervisor between two states: why, and how long a pass waits for it to settle at most. */
export interface Transition {
  why: string;
  waitMs: number;
}

/**
 * Whether the hypervisor is between two states. On a real Jailhouse a disable takes the non-root
 * cells' directories away about a second before `enabled` reads 0 (the root cell's last), and a
 * cell's `state` reads `invalid` while it is destroyed: planning against that picture would run
 * `cell create` against a hypervisor that is switching off. A cell crtosd runs that is gone while
 * `enabled` still reads 1 may be the first sign of a disable, or a destroy behind crtosd's back:
 * a short wait tells them apart.
 */
export function jailhouseTransition(status: JailhouseStatus, runningCells: readonly string[]): Transition | undefined {
  if (!status.enabled) return undefined;
  if (!status.cells.some((c) => c.id === 0)) return { why: 'it is being disabled (the root cell is gone, enabled still reads 1)', waitMs: 5000 };
  const destroying = status.cells.find((c) => c.state === 'invalid');
  if (destroying) return { why: `cell ${destroying.name} is being destroyed (state invalid)`, waitMs: 5000 };
  const gone = runningCells.find((name) => !status.cells.some((c) => c.name === name));
  return gone === undefined ? undefined : { why: `cell ${gone} is gone while the hypervisor is enabled (a disable may be under way)`, waitMs: 2000 };
}
