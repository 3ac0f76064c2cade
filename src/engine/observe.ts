/**
 * observe(): one read of the machine for every unit the engine knows (in the set or recorded).
 * Cheap on purpose (sysfs, /proc/modules, a few stat calls); `ip` runs only when units of a kind
 * that observes interfaces exist (networks), bounded (InterfaceProbe), and processes are read only
 * for recorded process units (loaders).
 */
import type { Host, InterfaceInfo, ModuleInfo, ProcessInfo, ToolRunObserver } from '../host/host.js';
import { behaviourOf, INVOCATION_ENV, type Target } from '../kinds/behaviours.js';
import { allBackends, DEFAULT_BACKEND, findBackend, type Transition } from '../backends/index.js';
import type { Observation, Snapshot } from './types.js';
import { fileSha256 } from '../kinds/image/digest.js';

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

/**
 * The backends the units run on (what their descriptions or records name), and the default one
 * (records from before backends were recorded ran on it): a machine is not read for a backend
 * none of its units uses (a Jailhouse machine's snapshot reads no remoteproc sysfs).
 */
function backendsInUse(targets: readonly Target[]) {
  const types = new Set([DEFAULT_BACKEND, ...targets.flatMap((t) => (t.facts.hypervisorType ? [t.facts.hypervisorType] : []))]);
  return allBackends().filter((b) => types.has(b.definition.type));
}

/**
 * A snapshot and when its reads began (performance.now(), ms): what it shows of a unit may be
 * older than a change the engine learnt of first-hand meanwhile (UnitTable.current).
 */
export interface TimedSnapshot extends Snapshot {
  readonly takenAt: number;
}

export async function takeSnapshot(host: Host, targets: readonly Target[], opts: SnapshotOptions = {}): Promise<TimedSnapshot> {
  await opts.before?.();
  // Before the first read: a change handled from here on may be one the reads missed.
  const takenAt = performance.now();
  const networks = targets.filter((t) => behaviourOf(t.kind).observesInterfaces === true).map((t) => t.id);
  const needInterfaces = networks.length > 0;
  let probe = opts.interfaces ?? defaultProbe.get(host);
  if (!probe) defaultProbe.set(host, (probe = new InterfaceProbe()));
  const loaders = targets.filter((t) => behaviourOf(t.kind).process !== undefined && t.facts.pid !== undefined && t.facts.startTime !== undefined);
  const unrecorded = targets.filter((t) => unrecordedProcess(t) && (opts.findByInvocation?.(t) ?? true));
  const pathList = [...new Set(targets.flatMap((t) => behaviourOf(t.kind).paths?.(t) ?? []))];
  const digestList = [...new Set(targets.flatMap((t) => behaviourOf(t.kind).digests?.(t) ?? []))];
  const [backends, modules, onlineCpus, interfaces, processes, paths, digests] = await Promise.all([
    Promise.all(backendsInUse(targets).flatMap((b) => (b.observe ? [b.observe(host).then((s) => [b.definition.type, s] as const)] : []))),
    host.modules(),
    host.onlineCpus(),
    needInterfaces ? probe.read(host, networks) : Promise.resolve(undefined),
    Promise.all([
      ...loaders.map(async (t) => [t.id, await host.process({ pid: t.facts.pid!, startTime: t.facts.startTime! })] as const),
      ...unrecorded.map(async (t) => [t.id, await host.findProcessByEnv(INVOCATION_ENV, t.facts.invocationId!)] as const),
    ]),
    Promise.all(pathList.map(async (p) => [p, await host.exists(p)] as const)),
    Promise.all(digestList.map(async (p) => [p, await fileSha256(host, p).catch(() => undefined)] as const)),
  ]);
  return {
    takenAt,
    backends: new Map(backends),
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

/** Whether any backend is between two states, given the cells crtosd runs, by backend type. */
export function hypervisorTransition(snap: Snapshot, runningCells: ReadonlyMap<string, readonly string[]>): Transition | undefined {
  for (const [type, status] of snap.backends) {
    const t = findBackend(type)?.transition?.(status, runningCells.get(type) ?? []);
    if (t) return t;
  }
  return undefined;
}
