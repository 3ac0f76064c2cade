/**
 * What the simulated driver and the machine's helpers ask of the inmate host (host.ts): start it
 * or tell it a cell started, wait until it has ended the runs the state ended, hang a guest, stop
 * it with its machine. The state is always changed first; the host follows it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolBundlePath } from '../bundle.js';
import { paths, sleepSync, withLock } from '../store.js';
import { TOOL_RUN_ENV } from '../../host/host.js';

/** How long a caller waits for the host to have looked, or for it to exit when stopped. */
const HOST_WAIT_MS = 2000;

/** The PID of the machine's inmate host, if one runs. */
function hostPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(paths.inmateHost(dir), 'utf8'));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    // A zombie's command line is empty; a PID taken by another process names something else.
    return cmdline.includes('inmates') && cmdline.includes(dir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Tells the host that a cell was started (the state says so already), starting the host if none runs. */
export function startInmate(dir: string): void {
  withLock(dir, 'inmates', () => {
    const pid = hostPid(dir);
    if (pid !== undefined) return void process.kill(pid, 'SIGWINCH');
    // Not the run token of the `cell start` that launched it: a real inmate is no Linux process, so
    // nothing carries the tool's token on after the tool. With it, a restarted crtosd that looks for
    // an interrupted `cell start` by its token took the host for the tool, awaited it and killed it.
    const { [TOOL_RUN_ENV]: _token, ...env } = process.env;
    const child = spawn(process.execPath, [toolBundlePath(), 'inmates', dir], { detached: true, stdio: 'ignore', env: { ...env, CRTOS_SIM_DIR: dir } });
    child.on('error', () => undefined);
    child.unref();
    writeFileSync(paths.inmateHost(dir), String(child.pid));
  });
}

let requests = 0;

/**
 * Has the host look at the machine again and returns once it has, whole: runs the state ended
 * are closed (a real inmate stops answering the moment `cell shutdown` or `destroy` returns, so
 * the command must not return while its guest still accepts connections). At once when no host runs.
 */
export function syncInmates(dir: string): void {
  const pid = hostPid(dir);
  if (pid === undefined) return;
  const request = join(paths.inmateRequests(dir), `${process.pid}.${requests++}`);
  try {
    writeFileSync(request, '');
  } catch {
    return; // The machine went.
  }
  process.kill(pid, 'SIGWINCH');
  const deadline = Date.now() + HOST_WAIT_MS;
  while (existsSync(request) && Date.now() < deadline && hostPid(dir) === pid) sleepSync(2);
  rmSync(request, { force: true });
}

/**
 * Hangs the cell's guest without failing it: the cell stays `running`, its endpoint accepts and
 * answers nothing (a liveness check's case; log: `cell hung`). False when no guest of the cell runs.
 */
export function hangInmate(dir: string, cell: string): boolean {
  if (!existsSync(paths.inmateRun(dir, cell))) return false;
  writeFileSync(paths.inmateHang(dir, cell), '');
  syncInmates(dir);
  return true;
}

/** The host's PID and the run token of the cell's guest, while it has one. */
export function inmateOf(dir: string, cell: string): { pid: number; token: string } | undefined {
  const pid = hostPid(dir);
  if (pid === undefined) return undefined;
  try {
    return { pid, token: readFileSync(paths.inmateRun(dir, cell), 'utf8') };
  } catch {
    return undefined;
  }
}

/** Stops the host with every guest (the machine is powered off or removed); returns once it is gone. */
export function stopInmateHost(dir: string): void {
  const pid = hostPid(dir);
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + HOST_WAIT_MS;
  while (hostPid(dir) === pid && Date.now() < deadline) sleepSync(2);
  if (hostPid(dir) === pid) process.kill(pid, 'SIGKILL');
  rmSync(paths.inmateHost(dir), { force: true });
}
