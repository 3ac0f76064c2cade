/**
 * Finding tools on PATH and running them with an argv array (never a shell string), collecting
 * stdout, stderr and the exit status. Failures become HostErrors carrying the errno the tool named.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { HostError } from './host-error.js';
import { parseErrno } from './errno.js';

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
  /** Kill the tool (SIGKILL) after this long; undefined waits forever. */
  timeoutMs?: number | undefined;
  /** Host operation name, for errors. */
  op: string;
}

/** Runs `argv` (argv[0] looked up on PATH) and resolves with its result, whatever the exit code. */
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
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new HostError({ code: 'HOST_TOOL_FAILED', op: opts.op, argv, message: `${opts.op}: cannot run ${path}: ${e.message}` }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { exitCode: code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (timedOut) {
        reject(
          new HostError({
            code: 'HOST_TOOL_TIMEOUT',
            op: opts.op,
            errno: 'ETIMEDOUT',
            argv,
            exitCode: code,
            signal,
            stderr: result.stderr,
            message: `${opts.op}: \`${argv.join(' ')}\` did not finish within ${opts.timeoutMs} ms and was killed`,
          }),
        );
      } else resolve(result);
    });
  });
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
