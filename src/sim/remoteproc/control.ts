/**
 * Starting, asking and stopping a machine's kernel server (kernel-server.ts), for SimMachine and
 * crtos-sim. The server is a detached process: it outlives the call that started it, and stops
 * when asked, when its owner process exits, or when its machine directory is removed.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { ProblemError, problem } from '../../errors/problem.js';
import { UNIX_PATH_MAX, kernelBundlePath, kernelPaths, readKernelInfo, type KernelReply, type KernelRequest } from './files.js';
import { fuseMountsUnder, unmount } from './mounts.js';
import { processStart } from './processes.js';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

const FUSE_HINT =
  'the remoteproc sysfs of the simulated machine is a FUSE file system: it needs /dev/fuse, root (or user_allow_other), ' +
  'the fuse3 and python3-fusepy packages (apt-get install fuse3 python3-fusepy); see DIR/.sim/kernel.log';

function unavailable(message: string): ProblemError {
  return new ProblemError(problem('HOST_SIM_FUSE_UNAVAILABLE', `FUSE cannot be mounted for the simulated remoteproc sysfs: ${message}`, { hint: FUSE_HINT }));
}

/**
 * Starts the kernel server of the machine in `dir` and resolves once its sysfs is mounted.
 * `owner`: the server stops when this process exits (tests); absent, it runs until stopped.
 */
export async function startKernel(dir: string, owner?: number): Promise<void> {
  for (const path of [kernelPaths.socket(dir), kernelPaths.tty(dir, 31)]) {
    if (Buffer.byteLength(path) > UNIX_PATH_MAX) {
      throw new ProblemError(problem('HOST_SIM_BAD_DESCRIPTION', `the machine directory is too deep for a UNIX socket: ${path} is longer than ${UNIX_PATH_MAX} bytes`, { hint: 'create the remoteproc machine in a shorter directory (under /tmp, say)' }));
    }
  }
  const args = [kernelBundlePath(), 'server', dir];
  if (owner !== undefined) args.push('--owner', `${owner}:${processStart(owner) ?? ''}`);
  const log = openSync(kernelPaths.log(dir), 'a');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', log] });
  closeSync(log);
  const first = await new Promise<string | undefined>((resolveLine) => {
    const timer = setTimeout(() => resolveLine(undefined), START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolveLine(line);
    });
    lines.once('close', () => {
      clearTimeout(timer);
      resolveLine(undefined);
    });
  });
  child.stdout?.destroy();
  child.unref();
  let answer: { ready?: boolean; error?: string } = {};
  try {
    answer = JSON.parse(first ?? '{}') as typeof answer;
  } catch {
    // said something else: reported below
  }
  if (answer.ready) return;
  if (child.exitCode === null) child.kill('SIGTERM');
  throw unavailable(answer.error ?? (first === undefined ? `the kernel server did not report within ${START_TIMEOUT_MS} ms` : first));
}

/** One request to the machine's kernel server, and its reply. */
export function kernelRequest(dir: string, request: KernelRequest): Promise<KernelReply> {
  return new Promise((resolveReply, reject) => {
    const socket = connect(kernelPaths.socket(dir));
    socket.once('error', (e) => reject(new Error(`the simulated kernel of ${dir} does not answer (${e.message}); is the machine powered off?`)));
    createInterface({ input: socket }).once('line', (line) => {
      socket.end();
      resolveReply(JSON.parse(line) as KernelReply);
    });
    socket.write(`${JSON.stringify(request)}\n`);
  });
}

/** A control request that must succeed: throws its message otherwise. */
export async function kernelControl(dir: string, request: Omit<KernelRequest, 'op'>): Promise<void> {
  const reply = await kernelRequest(dir, { op: 'control', ...request });
  if (reply.errno) throw new Error(reply.message ?? reply.errno);
}

/**
 * Stops the machine's kernel server (it unmounts its sysfs first) and waits until it is gone; then
 * unmounts whatever FUSE mount is still under `dir` (a server or bridge that was killed).
 */
export async function stopKernel(dir: string): Promise<void> {
  const info = readKernelInfo(dir);
  if (info && processStart(info.pid) !== undefined) {
    await new Promise<void>((resolveStop) => {
      const socket = connect(kernelPaths.socket(dir));
      // A server that does not go within this time is killed; the mounts are detached below.
      const timer = setTimeout(() => {
        killKernel(info.pid, dir);
        resolveStop();
      }, STOP_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        resolveStop();
      };
      // The connection closes when the server exits, after its unmounts.
      socket.once('close', done);
      socket.once('error', done);
      socket.on('data', () => undefined);
      socket.write(`${JSON.stringify({ op: 'control', action: 'shutdown' } satisfies KernelRequest)}\n`);
    });
  }
  for (const mountpoint of fuseMountsUnder(dir)) unmount(mountpoint, { lazy: true });
}

/** SIGKILL to the pid if it is still this machine's kernel server (its command line names the machine). */
function killKernel(pid: number, dir: string): void {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmdline.includes('server') && cmdline.includes(dir)) process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}
