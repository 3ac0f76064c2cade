/**
 * Loader processes: started detached in their own session (so they outlive a daemon restart),
 * identified by PID plus start time (so a reused PID is never taken for ours), and watched either
 * through the child handle (when this process started them) or by polling /proc (after a restart).
 * Processes are always the real machine's: /proc is read at its real path, never under the root.
 *
 * setsid(2) makes the loader the leader of a new session and of a new process group, both
 * numbered by its PID. Its children (a wrapper script's programs) inherit both, so stopping the
 * loader signals the whole group and session: no child is left behind. A process group is not a
 * cgroup: a child that calls setsid(2) itself leaves both and is not found.
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { parseProcStat, type ProcStat } from './parse.js';
import type { ExitStatus, ProcessIdentity, ProcessInfo } from './host.js';
import { HostError } from './host-error.js';

export async function readProcess(id: ProcessIdentity, procDir = '/proc'): Promise<ProcessInfo | undefined> {
  let statText: string;
  try {
    statText = await readFile(`${procDir}/${id.pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const stat = parseProcStat(statText);
  if (stat.startTime !== id.startTime) return undefined;
  let argv: string[] = [];
  try {
    const cmdline = await readFile(`${procDir}/${id.pid}/cmdline`, 'utf8');
    argv = cmdline.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
  } catch {
    // A zombie or a process gone meanwhile has no readable cmdline; its stat is enough.
  }
  return { pid: id.pid, startTime: stat.startTime, state: stat.state, argv };
}

/**
 * The live (not zombie) process whose environment holds exactly `name=value`, undefined when none
 * does. Scans every /proc/PID/environ; processes whose environ cannot be read (another user's, gone
 * meanwhile) are skipped. Used once at adoption, so a full scan is affordable.
 */
export async function findProcessByEnv(name: string, value: string, procDir = '/proc'): Promise<ProcessInfo | undefined> {
  const wanted = Buffer.from(`${name}=${value}`);
  let entries: string[];
  try {
    entries = await readdir(procDir);
  } catch {
    return undefined;
  }
  const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number);
  const matches = await Promise.all(
    pids.map(async (pid) => {
      try {
        return environHas(await readFile(`${procDir}/${pid}/environ`), wanted) ? pid : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  // A wrapper's children inherit the variable: the one that leads its session is the loader.
  const found: ProcessInfo[] = [];
  for (const pid of matches) {
    if (pid === undefined) continue;
    const info = await readProcessByPid(pid, procDir);
    if (info && info.state !== 'Z' && info.state !== 'X') found.push(info);
  }
  const leader = found.find((p) => sessionOf(p.pid, procDir) === p.pid);
  return leader ?? found.sort((a, b) => a.startTime - b.startTime)[0];
}

function sessionOf(pid: number, procDir: string): number | undefined {
  try {
    return parseProcStat(readFileSync(`${procDir}/${pid}/stat`, 'utf8')).sid;
  } catch {
    return undefined;
  }
}

/** Whether a NUL-separated environ block has `entry` as one whole entry. */
export function environHas(environ: Buffer, entry: Buffer): boolean {
  for (let at = environ.indexOf(entry); at !== -1; at = environ.indexOf(entry, at + 1)) {
    const startsEntry = at === 0 || environ[at - 1] === 0;
    const end = at + entry.length;
    const endsEntry = end === environ.length || environ[end] === 0;
    if (startsEntry && endsEntry) return true;
  }
  return false;
}

async function readProcessByPid(pid: number, procDir: string): Promise<ProcessInfo | undefined> {
  try {
    const { startTime } = parseProcStat(await readFile(`${procDir}/${pid}/stat`, 'utf8'));
    return await readProcess({ pid, startTime }, procDir);
  } catch {
    return undefined;
  }
}

export interface SpawnedProcess {
  identity: ProcessIdentity;
  exited: Promise<ExitStatus>;
}

export interface DetachedSpawnOptions {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logFile?: string | undefined;
}

/** Starts argv in a new session and process group; resolves once its start time is read. */
export function spawnDetached(opts: DetachedSpawnOptions): SpawnedProcess {
  const [file, ...args] = opts.argv;
  if (file === undefined) throw new HostError({ code: 'HOST_BAD_ARGUMENT', op: 'spawn', message: 'spawn: empty argv' });
  let logFd: number | undefined;
  if (opts.logFile !== undefined) {
    try {
      // Appending: after the file is rotated (truncated), writes go on at its new end, not at
      // the old offset (which would leave a hole of NULs).
      logFd = openSync(opts.logFile, 'a', 0o640);
    } catch (e) {
      throw new HostError({ code: 'HOST_SPAWN_FAILED', op: 'spawn', argv: opts.argv, message: `spawn: cannot open log file ${opts.logFile}: ${(e as Error).message}` });
    }
  }
  let child: ChildProcess;
  try {
    child = spawnChild(file, args, {
      env: opts.env,
      cwd: opts.cwd,
      detached: true,
      stdio: ['ignore', logFd ?? 'ignore', logFd ?? 'ignore'],
    });
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports a missing executable asynchronously through 'error'; swallow it here.
    child.on('error', () => undefined);
    throw new HostError({ code: 'HOST_SPAWN_FAILED', op: 'spawn', errno: 'ENOENT', argv: opts.argv, message: `spawn: cannot start ${file}` });
  }
  // Read the start time before the event loop can reap the child: until then /proc/PID exists,
  // even if the process has already exited (as a zombie).
  const startTime = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).startTime;
  child.unref();
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', () => resolve({ code: 127, signal: null }));
  });
  return { identity: { pid, startTime }, exited };
}

/**
 * Whether a process started through wrappers (chrt, prlimit, taskset, setpriv: their absolute
 * paths) runs the program by now: its command line is none of theirs. A wrapper that is a script
 * shows as `INTERPRETER WRAPPER …`, so the first two words are looked at. An empty command line
 * (a process between fork and exec, or gone) is not taken for the program.
 */
export function execReached(cmdline: readonly string[], wrappers: readonly string[]): boolean {
  return cmdline.length > 0 && !cmdline.slice(0, 2).some((word) => wrappers.includes(word));
}

/** Polls until the process is gone (or a zombie); its exit status is unknown to a non-parent. */
export async function pollUntilGone(id: ProcessIdentity, intervalMs: number): Promise<ExitStatus> {
  for (;;) {
    const info = await readProcess(id);
    if (info === undefined || info.state === 'Z' || info.state === 'X') return { code: null, signal: null };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The live processes (zombies left out) of the process group and session `id` leads: pgid or sid
 * equal to its PID, and the process itself. While any of them lives, the kernel does not hand the
 * number out again, so after the leader exited they are still its children's; but when a process
 * of another start time holds the PID, the number was free and reused, and nothing is ours.
 */
export function groupMembers(id: ProcessIdentity, procDir = '/proc'): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync(procDir);
  } catch {
    return [];
  }
  const members: ProcStat[] = [];
  let holder: ProcStat | undefined;
  for (const entry of entries) {
    const c = entry.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let st: ProcStat;
    try {
      // Synchronous: a stat file is generated from memory in microseconds, and a scan reads hundreds.
      st = parseProcStat(readFileSync(`${procDir}/${entry}/stat`, 'utf8'));
    } catch {
      continue; // gone meanwhile
    }
    if (st.pid === id.pid) holder = st;
    if (st.state === 'Z' || st.state === 'X') continue;
    if (st.pgid === id.pid || st.sid === id.pid || (st.pid === id.pid && st.startTime === id.startTime)) members.push(st);
  }
  if (holder && holder.startTime !== id.startTime) return [];
  return members;
}

/**
 * Signals every member (see groupMembers): each process group inside the session at once with
 * kill(-pgid), which also reaches a process forked after the scan; a process that is neither in
 * its own group nor session (a loader adopted by its INVOCATION_ID from an older start) alone.
 * Returns how many members there were.
 */
export function signalGroup(id: ProcessIdentity, signal: NodeJS.Signals, procDir = '/proc'): number {
  const members = groupMembers(id, procDir);
  const groups = new Set<number>();
  for (const m of members) {
    if (m.pgid === id.pid || m.sid === id.pid) groups.add(-m.pgid);
    else groups.add(m.pid);
  }
  for (const target of groups) {
    try {
      process.kill(target, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') {
        throw new HostError({ code: 'HOST_INTERNAL', op: 'killGroup', message: `killGroup: kill(${target}, ${signal}): ${(e as Error).message}` });
      }
    }
  }
  return members.length;
}

/**
 * Polls until the group is gone (or `abort` fires): soon at first (a signalled group usually
 * ends within milliseconds, and a stop waits for it), then every `intervalMs`.
 */
export async function pollGroupGone(id: ProcessIdentity, intervalMs: number, abort?: AbortSignal, procDir = '/proc'): Promise<void> {
  for (let delay = 5; abort?.aborted !== true && groupMembers(id, procDir).length > 0; delay = Math.min(delay * 2, Math.max(5, intervalMs))) {
    await new Promise((r) => setTimeout(r, delay));
  }
}
