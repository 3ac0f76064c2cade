/**
 * Loader: a detached Linux process (the cRTOS loader and system-call proxy). Identified by PID and
 * start time, so a daemon restart re-adopts it and a reused PID is never taken for it. Its exits
 * are the supervisor's business (restart policy). It leads its own process group and session, and
 * a stop treats them as one, as systemd treats a service's cgroup: stopSignal to every process of
 * the group, then, after stopTimeout, SIGKILL to what is left, so a wrapper script's children do
 * not outlive it. Each start gets an invocation id, recorded before the spawn and passed as
 * INVOCATION_ID, so a daemon killed before it recorded the PID finds the process again instead of
 * starting a second one. A start is complete only once the wrappers (chrt, prlimit, taskset,
 * setpriv) exec'd the program: one that hangs is killed with its group and the start fails.
 */
import { basename } from 'node:path';
import type { ProcessIdentity } from '../../host/host.js';
import type { Unit, UnitOf } from '../../units/types.js';
import { loaderHealthTable, type LoaderSpec } from './spec.js';
import type { LoaderDetails } from './view.js';
import type { Observation } from '../../engine/types.js';
import { shouldRestart } from '../../engine/supervision.js';
import { INVOCATION_ENV, type KindBehaviour, type StopContext } from '../behaviour.js';
import { fail, hostStep } from '../behaviour-common.js';

export { INVOCATION_ENV };

function specOf(unit: Unit): LoaderSpec {
  return (unit as UnitOf<'Loader'>).spec;
}

const DEFAULT_STOP_TIMEOUT = 10_000;
/** Reaching the program through chrt and the like takes milliseconds; systemd waits 90 s for a whole start. */
const DEFAULT_EXEC_TIMEOUT = 10_000;

export const loaderBehaviour: KindBehaviour = {
  activeSubState: () => 'running',
  async describe(unit) {
    const spec = specOf(unit);
    return { facts: { stopSignal: spec.stopSignal, stopTimeout: spec.stopTimeout } };
  },
  health(unit) {
    const spec = specOf(unit);
    return { table: loaderHealthTable(spec), ...(spec.liveness ? { liveness: spec.liveness } : {}), env: spec.environment };
  },
  process: {
    // `loader` for /opt/crtos/loader, as the journal labels a program's lines.
    label: (unit) => basename(specOf(unit).exec[0]),
    restartOnExit: (unit, exit) => shouldRestart(specOf(unit).restart, exit),
    stopLeftovers: (id, main, facts, ctx) => stopProcessGroup(id, main, facts.stopSignal, facts.stopTimeout, ctx),
    startedDetails: (pid, restarts) => ({ kind: 'Loader', pid, exitCode: 0, exitSignal: '', restarts }) satisfies LoaderDetails & { kind: string },
  },
  observe(target, snap): Observation {
    const proc = snap.processes.get(target.id);
    const alive = proc !== undefined && proc.state !== 'Z' && proc.state !== 'X';
    const details = { kind: 'Loader' as const, pid: alive ? proc.pid : 0, exitCode: 0, exitSignal: '', restarts: 0 };
    return alive ? { state: 'active', subState: 'running', details } : { state: 'inactive', subState: 'dead', details };
  },

  async start(unit, ctx) {
    const l = unit as UnitOf<'Loader'>;
    const prev = ctx.previous;
    if (prev?.pid !== undefined && prev.startTime !== undefined) {
      // The last run's main process ended while no crtosd watched it; what it left in its group
      // must not run beside the new one.
      await stopProcessGroup(l.id, { pid: prev.pid, startTime: prev.startTime }, prev.stopSignal, prev.stopTimeout, ctx);
    }
    // INVOCATION_ID last: a unit's own environment must not hide it, adoption after a crash needs it.
    const env: Record<string, string> = {
      ...ctx.baseEnv,
      ...l.spec.environment,
      ...(ctx.invocationId ? { [INVOCATION_ENV]: ctx.invocationId } : {}),
    };
    const limits = hostLimits(l.spec.limits);
    // The start completes once the wrappers exec'd the program: a hung chrt is not a running loader.
    const id = await ctx.timed(
      (call) =>
        hostStep(
          l.id,
          `starting ${l.spec.exec.join(' ')}`,
          ctx.host.spawn(
            {
              argv: [...l.spec.exec],
              env,
              cwd: l.spec.workingDirectory ?? '/',
              ...(l.spec.scheduling ? { scheduling: l.spec.scheduling } : {}),
              ...(l.spec.cpus ? { cpus: l.spec.cpus } : {}),
              ...(l.spec.user !== undefined ? { user: l.spec.user } : {}),
              ...(l.spec.group !== undefined ? { group: l.spec.group } : {}),
              ...(limits ? { limits } : {}),
              ...(ctx.logFile ? { logFile: ctx.logFile } : {}),
            },
            call,
          ),
        ),
      execTimeoutOf(l.spec),
      `exec of ${l.spec.exec[0]}${wrappersOf(l.spec)}`,
    );
    return {
      pid: id.pid,
      startTime: id.startTime,
      stopSignal: l.spec.stopSignal,
      stopTimeout: l.spec.stopTimeout,
      ...(ctx.invocationId ? { invocationId: ctx.invocationId } : {}),
    };
  },

  async stop(target, ctx) {
    const { pid, startTime } = target.facts;
    if (pid === undefined || startTime === undefined) return;
    // Also when the main process is gone already: its children may not be.
    await stopProcessGroup(target.id, { pid, startTime }, target.facts.stopSignal, target.facts.stopTimeout, ctx);
  },
};

/**
 * stopSignal to every process of the loader's group and session, SIGKILL to those left after
 * stopTimeout; fails when some are still there another stopTimeout after the SIGKILL (a process
 * stuck in the kernel), as systemd reports processes that survive its final SIGKILL. Resolves
 * with how many processes there were (0: nothing was left to stop).
 */
export async function stopProcessGroup(
  unit: string,
  id: ProcessIdentity,
  stopSignal: string | undefined,
  stopTimeout: number | undefined,
  ctx: Pick<StopContext, 'host' | 'sleep' | 'log'>,
): Promise<number> {
  const signal = (stopSignal ?? 'SIGTERM') as NodeJS.Signals;
  const timeout = stopTimeout ?? DEFAULT_STOP_TIMEOUT;
  const signalled = await ctx.host.killGroup(id, signal);
  if (signalled === 0) return 0;
  const abort = new AbortController();
  try {
    const gone = ctx.host.waitGroupGone(id, abort.signal).then(() => true);
    if (await Promise.race([gone, ctx.sleep(timeout).then(() => false)])) return signalled;
    const left = await ctx.host.killGroup(id, 'SIGKILL');
    if (left === 0) return signalled;
    ctx.log(`${left} process(es) of process ${id.pid}'s group did not exit within ${timeout} ms of ${signal}; sent SIGKILL`);
    if (await Promise.race([gone, ctx.sleep(timeout).then(() => false)])) return signalled;
    fail('ENGINE_STOP_FAILED', unit, `processes of process ${id.pid}'s group are still there ${timeout} ms after SIGKILL`, 'a process stuck in the kernel (state D) exits only when its operation ends; see `ps -g PID`');
  } finally {
    abort.abort();
  }
}

/**
 * How long a start may take to reach the program through its wrappers. The Loader schema has no
 * `timeout` of its own yet; one given there is used.
 */
function execTimeoutOf(spec: LoaderSpec): number {
  const own = (spec as { timeout?: unknown }).timeout;
  return typeof own === 'number' && own > 0 ? own : DEFAULT_EXEC_TIMEOUT;
}

/** ` through chrt, taskset` for the messages: the wrappers the host puts before the program. */
function wrappersOf(spec: LoaderSpec): string {
  const names = [
    ...(spec.limits && Object.values(spec.limits).some((v) => v !== undefined) ? ['prlimit'] : []),
    ...(spec.scheduling ? ['chrt'] : []),
    ...(spec.cpus && spec.cpus.length > 0 ? ['taskset'] : []),
    ...(spec.user !== undefined || spec.group !== undefined ? ['setpriv'] : []),
  ];
  return names.length === 0 ? '' : ` through ${names.join(', ')}`;
}

/** The unit's limits as the host takes them: sizes and counts as bigints. */
function hostLimits(limits: LoaderSpec['limits']): Partial<Record<'memlock' | 'rtprio' | 'nofile' | 'core', bigint | 'infinity'>> | undefined {
  if (!limits) return undefined;
  const out: Partial<Record<'memlock' | 'rtprio' | 'nofile' | 'core', bigint | 'infinity'>> = {};
  for (const [name, value] of Object.entries(limits) as [keyof typeof limits, bigint | number | 'infinity' | undefined][]) {
    if (value !== undefined) out[name] = value === 'infinity' ? value : BigInt(value);
  }
  return out;
}
