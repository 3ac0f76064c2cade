/**
 * observe(): one read of the machine for every unit the engine knows (in the set or recorded).
 * Cheap on purpose (sysfs, /proc/modules, a few stat calls); `ip` runs only when Network units
 * exist, and processes are read only for recorded loaders.
 */
import type { Host, InterfaceInfo, ModuleInfo, ProcessInfo } from '../host/host.js';
import { BEHAVIOURS, type Target } from './kinds/index.js';
import { INVOCATION_ENV } from './kinds/loader.js';
import type { Observation, Snapshot } from './types.js';
import { sha256 } from './canonical.js';

export interface SnapshotOptions {
  /**
   * Which loaders recorded with an invocation id but no PID to look up by INVOCATION_ID (a scan of
   * /proc); default all. The engine skips ids it spawned itself or already looked up.
   */
  findByInvocation?: (target: Target) => boolean;
}

export async function takeSnapshot(host: Host, targets: readonly Target[], opts: SnapshotOptions = {}): Promise<Snapshot> {
  const needInterfaces = targets.some((t) => t.kind === 'Network');
  const loaders = targets.filter((t) => t.kind === 'Loader' && t.facts.pid !== undefined && t.facts.startTime !== undefined);
  const unrecorded = targets.filter(
    (t) => t.kind === 'Loader' && t.facts.pid === undefined && t.facts.invocationId !== undefined && (opts.findByInvocation?.(t) ?? true),
  );
  const pathList = [...new Set(targets.flatMap((t) => BEHAVIOURS[t.kind].paths?.(t) ?? []))];
  const digestList = [...new Set(targets.flatMap((t) => BEHAVIOURS[t.kind].digests?.(t) ?? []))];
  const [jailhouse, modules, onlineCpus, interfaces, processes, paths, digests] = await Promise.all([
    host.jailhouse(),
    host.modules(),
    host.onlineCpus(),
    needInterfaces ? host.interfaces().catch(() => [] as InterfaceInfo[]) : Promise.resolve(undefined),
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
  return new Map(targets.map((t) => [t.id, BEHAVIOURS[t.kind].observe(t, snap)]));
}
