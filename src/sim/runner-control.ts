/**
 * Starting and stopping cell runners: one detached process per running cell that stands for the
 * guest (it serves the readiness endpoint and fails on schedule). See cell-runner.ts.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { SimCell } from './state.js';
import { toolBundlePath } from './bundle.js';
import { sleepSync } from './store.js';
import { TOOL_RUN_ENV } from '../host/host.js';

export function launchRunner(dir: string, cell: SimCell): void {
  if (cell.runToken === undefined) return;
  // Not the run token of the `cell start` that launched it: a real inmate is no Linux process, so
  // nothing carries the tool's token on after the tool. With it, a restarted crtosd that looks for
  // an interrupted `cell start` by its token found this runner (a session leader, as the tool is),
  // awaited it until the tool's deadline and then killed it (crash test, seeds 20 and 25 on a busy
  // machine, where the daemon was killed before it learnt the tool's PID).
  const { [TOOL_RUN_ENV]: _token, ...env } = process.env;
  const child = spawn(process.execPath, [toolBundlePath(), 'cell-runner', dir, cell.name, cell.runToken], {
    detached: true,
    stdio: 'ignore',
    env: { ...env, CRTOS_SIM_DIR: dir },
  });
  child.on('error', () => undefined);
  child.unref();
}

/** Signals the runner recorded for this cell, if that PID is still a runner of this machine. */
/**
 * Stops the cell's runner and returns once it has gone: a real inmate stops answering the moment
 * `cell shutdown` or `destroy` returns (its CPUs are parked), so the command must not return while
 * the runner still accepts connections. A stand-in takes a few milliseconds now; without this wait
 * a probe right after the command reached the runner before it had closed.
 */
export function stopRunner(cell: SimCell, dir?: string): void {
  if (!signalRunner(cell, 'SIGTERM', dir)) return;
  const deadline = Date.now() + RUNNER_EXIT_WAIT_MS;
  while (isRunner(cell, dir) && Date.now() < deadline) sleepSync(2);
  if (isRunner(cell, dir)) signalRunner(cell, 'SIGKILL', dir);
}

/** How long a runner may take to close its endpoint and exit before it is killed. */
const RUNNER_EXIT_WAIT_MS = 2000;

/**
 * Hangs the cell's guest without failing it: the cell stays `running`, its runner refuses new
 * connections and answers nothing (a liveness check's case). Returns false when no runner of this
 * machine runs for the cell.
 */
export function hangRunner(cell: SimCell, dir?: string): boolean {
  return signalRunner(cell, 'SIGUSR2', dir);
}

/** Whether the PID recorded for the cell is still its runner (a zombie's empty command line is not). */
function isRunner(cell: SimCell, dir?: string): boolean {
  const pid = cell.runnerPid;
  if (pid === undefined) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('cell-runner') && cmdline.includes(cell.name) && (dir === undefined || cmdline.includes(dir));
  } catch {
    // Already gone.
    return false;
  }
}

function signalRunner(cell: SimCell, signal: NodeJS.Signals, dir?: string): boolean {
  if (!isRunner(cell, dir)) return false;
  try {
    process.kill(cell.runnerPid!, signal);
    return true;
  } catch {
    return false;
  }
}
