/**
 * Finding tools on PATH and running them with an argv array (never a shell string), collecting
 * stdout, stderr and the exit status. Failures become HostErrors carrying the errno the tool named.
 * Every tool runs as the leader of its own process group and is killed with it when its time is up.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { HostError } from './host-error.js';
import { parseErrno } from './errno.js';
import { parseProcStat } from './parse.js';
import { TOOL_RUN_ENV, type ToolRun, type ToolRunObserver } from './host.js';

export interface ToolResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The absolute path of an executable named `name` on PATH, or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (isAbsolute(name)) return isExecutable(name) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  /** Kill the tool after this long (the host's backstop); undefined waits forever. */
  timeoutMs?: number | undefined;
  /** Kill the tool when this fires (the caller's deadline); the run rejects once it has exited. */
  signal?: AbortSignal | undefined;
  /** Told when the tool's process started and when it is gone. */
  runs?: ToolRunObserver | undefined;
  /** Between SIGTERM and SIGKILL to the tool's process group; default 500 ms. */
  killGraceMs?: number | undefined;
  /** Host operation name, for errors. */
  op: string;
}

const DEFAULT_KILL_GRACE_MS = 500;

/**
 * Runs `argv` (argv[0] looked up on PATH) and resolves with its result, whatever the exit code.
 *
 * The tool leads its own session and process group (numbered by its PID), so what it forks is
 * reached too when it is killed: at `timeoutMs`, or when `signal` fires, the group gets SIGTERM
 * and, after `killGraceMs`, SIGKILL. The run rejects with HOST_TOOL_TIMEOUT only once the tool has
 * exited, so a caller that gave up never has it finish behind its back.
 */
export function runTool(argv: string[], opts: RunOptions): Promise<ToolResult> {
  const [name, ...args] = argv;
  if (name === undefined) throw new HostError({ code: 'HOST_INTERNAL', op: opts.op, message: 'empty argv' });
  const path = findOnPath(name, opts.env);
  if (path === undefined) {
    return Promise.reject(
      new HostError({
        code: 'HOST_TOOL_NOT_FOUND',
        op: opts.op,
        errno: 'ENOENT',
        argv,
        message: `${opts.op}: \`${name}\` not found on PATH`,
        hint: `install ${name} or put the directory holding it on crtosd's PATH`,
      }),
    );
  }
  if (opts.signal?.aborted) return Promise.reject(abandoned(argv, opts.op, 'was not run: its caller gave it up before it started'));
  return new Promise((resolve, reject) => {
    let token: string | undefined;
    notify(() => (token = opts.runs?.spawning?.(argv)));
    const env = token === undefined ? opts.env : { ...opts.env, [TOOL_RUN_ENV]: token };
    const child = spawn(path, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    // Read before the event loop can reap the child: until then /proc/PID exists.
    const found = pid === undefined ? undefined : withStartTime(pid, argv, opts.op);
    const run: ToolRun | undefined = found && token !== undefined ? { ...found, token } : found;
    if (run) notify(() => opts.runs?.started(run));
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let killedBy: 'timeout' | 'abort' | undefined;
    let exited = false;
    let closed = false;
    const timers: NodeJS.Timeout[] = [];
    const kill = (why: 'timeout' | 'abort') => {
      if (killedBy || exited || closed || pid === undefined) return;
      killedBy = why;
      signalToolGroup(pid, 'SIGTERM');
      timers.push(setTimeout(() => signalToolGroup(pid, 'SIGKILL'), opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS));
    };
    if (opts.timeoutMs !== undefined) timers.push(setTimeout(() => kill('timeout'), opts.timeoutMs));
    const onAbort = () => kill('abort');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', onAbort);
      if (run) notify(() => opts.runs?.ended(run));
    };
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('exit', () => {
      exited = true;
      // A killed tool's pipes may be held by a process that left its group: do not wait for them.
      if (killedBy) timers.push(setTimeout(() => (child.stdout.destroy(), child.stderr.destroy()), opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS));
    });
    child.on('error', (e) => {
      if (exited || closed) return;
      finish();
      reject(new HostError({ code: 'HOST_TOOL_FAILED', op: opts.op, argv, message: `${opts.op}: cannot run ${path}: ${e.message}` }));
    });
    child.on('close', (code, signal) => {
      if (closed) return;
      finish();
      const result = { exitCode: code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (killedBy === 'timeout') {
        reject(
          new HostError({
            code: 'HOST_TOOL_TIMEOUT',
            op: opts.op,
            errno: 'ETIMEDOUT',
            argv,
            exitCode: code,
            signal,
            stderr: result.stderr,
            message: `${opts.op}: \`${argv.join(' ')}\` did not finish within ${opts.timeoutMs} ms and was killed with its process group`,
          }),
        );
      } else if (killedBy === 'abort') {
        reject(abandoned(argv, opts.op, `was killed with its process group (pid ${pid}): its caller's deadline passed`, { exitCode: code, signal, stderr: result.stderr }));
      } else resolve(result);
    });
  });
}

/** The error of a run given up by its caller: HOST_TOOL_TIMEOUT, as the caller's deadline passed. */
function abandoned(argv: string[], op: string, what: string, extra: { exitCode?: number | null; signal?: string | null; stderr?: string } = {}): HostError {
  return new HostError({ code: 'HOST_TOOL_TIMEOUT', op, errno: 'ETIMEDOUT', argv, ...extra, message: `${op}: \`${argv.join(' ')}\` ${what}` });
}

function withStartTime(pid: number, argv: string[], op: string): ToolRun | undefined {
  try {
    return { op, pid, startTime: parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).startTime, argv };
  } catch {
    return undefined; // no /proc: the run is not recorded, but still bounded
  }
}

/** kill(-pgid): the tool leads its group, so this reaches what it forked too. */
function signalToolGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is gone already.
  }
}

/** An observer that throws (a state file that cannot be written) must not break the run. */
function notify(fn: () => void): void {
  try {
    fn();
  } catch {
    // The observer reports its own failures.
  }
}

/** Runs `argv` and rejects with a HostError unless it exits 0. */
export async function runToolChecked(argv: string[], opts: RunOptions): Promise<ToolResult> {
  const result = await runTool(argv, opts);
  if (result.exitCode === 0) return result;
  throw toolFailure(argv, result, opts.op);
}

export function toolFailure(argv: string[], result: ToolResult, op: string): HostError {
  const firstLine = result.stderr.split('\n').find((l) => l.trim() !== '') ?? result.stdout.split('\n').find((l) => l.trim() !== '') ?? '';
  const status = result.exitCode === null ? `killed by ${result.signal ?? 'a signal'}` : `exit ${result.exitCode}`;
  return new HostError({
    code: 'HOST_TOOL_FAILED',
    op,
    errno: parseErrno(result.stderr),
    exitCode: result.exitCode,
    signal: result.signal,
    stderr: result.stderr,
    argv,
    message: `${op}: \`${argv.join(' ')}\` failed (${status})${firstLine === '' ? '' : `: ${firstLine.trim()}`}`,
  });
}
