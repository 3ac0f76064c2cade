/**
 * Loader: a detached Linux process (the cRTOS loader and system-call proxy). Identified by PID and
 * start time, so a daemon restart re-adopts it and a reused PID is never taken for it. Its exits
 * are the supervisor's business (restart policy); stop asks with stopSignal, then SIGKILL. Each
 * start gets an invocation id, recorded before the spawn and passed as INVOCATION_ID, so a daemon
 * killed before it recorded the PID finds the process again instead of starting a second one.
 */
import type { UnitOf } from '../../units/types.js';
import type { Observation } from '../types.js';
import type { KindBehaviour } from './behaviour.js';
import { hostStep } from './common.js';

/** The environment variable a loader's invocation id is passed in (systemd's name for it). */
export const INVOCATION_ENV = 'INVOCATION_ID';

export const loaderBehaviour: KindBehaviour = {
  activeSubState: () => 'running',
  observe(target, snap): Observation {
    const proc = snap.processes.get(target.id);
    const alive = proc !== undefined && proc.state !== 'Z' && proc.state !== 'X';
    const details = { kind: 'Loader' as const, pid: alive ? proc.pid : 0, exitCode: 0, exitSignal: '', restarts: 0 };
    return alive ? { state: 'active', subState: 'running', details } : { state: 'inactive', subState: 'dead', details };
  },

  async start(unit, ctx) {
    const l = unit as UnitOf<'Loader'>;
    // INVOCATION_ID last: a unit's own environment must not hide it, adoption after a crash needs it.
    const env: Record<string, string> = {
      ...ctx.baseEnv,
      ...l.spec.environment,
      ...(ctx.invocationId ? { [INVOCATION_ENV]: ctx.invocationId } : {}),
    };
    const id = await hostStep(
      l.id,
      `starting ${l.spec.exec.join(' ')}`,
      ctx.host.spawn({
        argv: [...l.spec.exec],
        env,
        ...(l.spec.workingDirectory ? { cwd: l.spec.workingDirectory } : {}),
        ...(l.spec.scheduling ? { scheduling: l.spec.scheduling } : {}),
        ...(l.spec.cpus ? { cpus: l.spec.cpus } : {}),
        ...(ctx.logFile ? { logFile: ctx.logFile } : {}),
      }),
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
    const id = { pid, startTime };
    const signal = (target.facts.stopSignal ?? 'SIGTERM') as NodeJS.Signals;
    if (!(await ctx.host.kill(id, signal))) return;
    const exited = ctx.host.waitExit(id).then(() => true);
    const inTime = await Promise.race([exited, ctx.sleep(target.facts.stopTimeout ?? 10_000).then(() => false)]);
    if (!inTime) {
      ctx.log(`did not exit within ${target.facts.stopTimeout ?? 10_000} ms of ${signal}; sending SIGKILL`);
      await ctx.host.kill(id, 'SIGKILL');
      await exited;
    }
  },
};
