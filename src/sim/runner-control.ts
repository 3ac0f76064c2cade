/**
 * Starting and stopping cell runners: one detached process per running cell that stands for the
 * guest (it serves the readiness endpoint and fails on schedule). See cell-runner.ts.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { SimCell } from './state.js';
import { toolBundlePath } from './bundle.js';

export function launchRunner(dir: string, cell: SimCell): void {
  if (cell.runToken === undefined) return;
  const child = spawn(process.execPath, [toolBundlePath(), 'cell-runner', dir, cell.name, cell.runToken], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, CRTOS_SIM_DIR: dir },
  });
  child.on('error', () => undefined);
  child.unref();
}

/** Signals the runner recorded for this cell, if that PID is still a runner of this machine. */
export function stopRunner(cell: SimCell, dir?: string): void {
  signalRunner(cell, 'SIGTERM', dir);
}

/**
 * Hangs the cell's guest without failing it: the cell stays `running`, its runner refuses new
 * connections and answers nothing (a liveness check's case). Returns false when no runner of this
 * machine runs for the cell.
 */
export function hangRunner(cell: SimCell, dir?: string): boolean {
  return signalRunner(cell, 'SIGUSR2', dir);
}

function signalRunner(cell: SimCell, signal: NodeJS.Signals, dir?: string): boolean {
  const pid = cell.runnerPid;
  if (pid === undefined) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!cmdline.includes('cell-runner') || !cmdline.includes(cell.name) || (dir !== undefined && !cmdline.includes(dir))) return false;
    process.kill(pid, signal);
    return true;
  } catch {
    // Already gone.
    return false;
  }
}
