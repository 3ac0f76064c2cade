/** What every stand-in tool gets: the machine directory, its arguments and its output streams. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ErrnoName } from '../../host/errno.js';
import { appendLog, sleepSync, type OperationClock, type SimLogEntry } from '../store.js';
import { latencyOf, takeFault, type SimFault, type SimOperation } from '../faults.js';

export interface ToolContext {
  /** The machine directory (from CRTOS_SIM_DIR, set by the wrapper script). */
  dir: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  /** When the tool started and reached each phase of its operation; logged with the operation. */
  clock: OperationClock;
}

/** One line in the machine's operation log, with the tool's phase times. */
export function logOperation(ctx: ToolContext, entry: Omit<SimLogEntry, 'time'>): void {
  appendLog(ctx.dir, entry, ctx.clock);
}

/** Machine path → path inside the machine directory; real paths already inside it stay as they are. */
export function underMachine(dir: string, path: string): string {
  const abs = resolve(path);
  if (abs === dir || abs.startsWith(`${dir}/`)) return abs;
  return join(dir, abs);
}

export function machineHasPath(dir: string, machinePath: string): boolean {
  return existsSync(underMachine(dir, machinePath));
}

/**
 * Applies the injected latency and fault of an operation. Returns the errno to fail with, or
 * undefined to go on. A hang never returns: the process sleeps until it is killed.
 */
export function injected(ctx: ToolContext, op: SimOperation, targets: string[]): { errno?: ErrnoName; fault?: SimFault } {
  const latency = latencyOf(ctx.dir, op);
  if (latency > 0) sleepSync(latency);
  const fault = takeFault(ctx.dir, op, targets);
  if (!fault) return {};
  if (fault.hang) {
    logOperation(ctx, { op, args: ctx.args, result: 'hang', detail: { fault, pid: process.pid } });
    for (;;) sleepSync(60_000);
  }
  return fault.errno === undefined ? { fault } : { errno: fault.errno, fault };
}
