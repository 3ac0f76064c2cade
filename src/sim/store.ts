/**
 * The machine directory on disk: its description, hidden state, fault settings and operation log,
 * and the locks that make concurrent stand-in tools behave like one kernel. Synchronous on
 * purpose: each stand-in is a short-lived process doing one operation.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, rmdirSync, statSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { MachineDescription } from './description.js';
import { applyDerived, type SimState } from './state.js';
import { modeOf, moduleEffects, render, symlinkTarget, type RenderedTree } from './render.js';
import { renderedEncoding } from './identity.js';

export const paths = {
  description: (dir: string) => join(dir, 'machine.json'),
  state: (dir: string) => join(dir, '.sim', 'state.json'),
  /**
   * What render.ts wrote last, path → content (null = directory), to remove stale files: apart
   * from the state, which everything reads (three quarters of its bytes with 32 cells), where only
   * a change needs it.
   */
  rendered: (dir: string) => join(dir, '.sim', 'rendered.json'),
  faults: (dir: string) => join(dir, 'faults.json'),
  log: (dir: string) => join(dir, 'ops.log'),
  lock: (dir: string, name: string) => join(dir, '.sim', `${name}.lock`),
  /** Present while process `pid` waits for the lock `name` (the driver mutex only). */
  lockWaiter: (dir: string, name: string, pid: number) => join(dir, '.sim', `${name}.lock.waiting.${pid}`),
  /** Present once the root side froze (SimState.jailhouse.frozen), holding the pid of the call that froze it. */
  frozen: (dir: string) => join(dir, '.sim', 'frozen'),
  /** The inmate host (src/sim/inmates): its PID, and per served cell a file holding the run's token. */
  inmateHost: (dir: string) => join(dir, '.sim', 'inmates.pid'),
  inmateRun: (dir: string, cell: string) => join(dir, '.sim', `inmate.${encodeURIComponent(cell)}.run`),
  /** Present while a hang of the cell's guest is asked for or in force. */
  inmateHang: (dir: string, cell: string) => join(dir, '.sim', `inmate.${encodeURIComponent(cell)}.hang`),
  /** Requests to the host (PID.N), each removed once a whole look of the host's after it is done. */
  inmateRequests: (dir: string) => join(dir, '.sim', 'inmate-requests'),
};

/** The names of inmateRun's and inmateHang's files. */
export const INMATE_MARKER = /^inmate\..+\.(run|hang)$/;

export function readDescription(dir: string): MachineDescription {
  return JSON.parse(readFileSync(paths.description(dir), 'utf8')) as MachineDescription;
}

export function readState(dir: string): SimState {
  return JSON.parse(readFileSync(paths.state(dir), 'utf8')) as SimState;
}

/** A dot-file next to the target: directory listings of sysfs-like trees skip dot entries. */
const tmpPathOf = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);

export function writeAtomic(path: string, content: string | Uint8Array, mode?: number): void {
  const tmp = tmpPathOf(path);
  if (mode === undefined) writeFileSync(tmp, content);
  else {
    try {
      writeFileSync(tmp, content, { mode });
    } catch (e) {
      // A read-only leftover of a killed writer with the same PID.
      if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
      rmSync(tmp, { force: true });
      writeFileSync(tmp, content, { mode });
    }
  }
  renameSync(tmp, path);
}

/** writeAtomic without blocking the event loop (a server's main thread). */
export async function writeAtomicAsync(path: string, content: string, mode?: number): Promise<void> {
  const tmp = tmpPathOf(path);
  // A read-only leftover of a killed writer with the same PID would refuse the write.
  await rm(tmp, { force: true });
  await writeFile(tmp, content, mode === undefined ? {} : { mode });
  await rename(tmp, path);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockAgeMs(lock: string): number {
  try {
    return Date.now() - statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}

type LockAttempt = 'taken' | 'retry' | 'wait';

/** One try at the lock directory; a lock left by a dead owner is removed ('retry' at once). */
function tryLock(lock: string, attempt: number): LockAttempt {
  try {
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner'), String(process.pid));
    return 'taken';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // A kernel mutex hands over at once; polling stands in for that, so poll often (a few ms)
  // and look at the owner only now and then.
  if (attempt % 8 !== 7) return 'wait';
  let owner = NaN;
  try {
    owner = Number(readFileSync(join(lock, 'owner'), 'utf8'));
  } catch {
    // Owner file not written yet: the owner is between mkdir and write, or died there.
  }
  const ownerless = !Number.isInteger(owner) && lockAgeMs(lock) > 2000;
  if (ownerless || (Number.isInteger(owner) && owner > 0 && !processAlive(owner))) {
    rmSync(lock, { recursive: true, force: true });
    return 'retry';
  }
  return 'wait';
}

const lockPauseMs = (attempt: number) => Math.min(1 + (attempt >> 3), 5);

/**
 * Threads of one process (the tool server's workers, one per request) that wait for a lock are
 * woken when another of them releases it, as a kernel mutex hands over at once: a counter per lock
 * in memory the threads share, bumped on each release. Polling remains the way to notice a holder
 * in another process (a tool run in-process, a Node.js stand-in, the inmate host).
 */
let lockBells: Int32Array | undefined;
const LOCK_BELL_SLOTS = 3;
const bellSlot = (name: string) => (name === 'jailhouse' ? 0 : name === 'state' ? 1 : 2);

/** Memory for the bells, to hand to each thread that takes locks (shareLockBells). */
export function lockBellMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(LOCK_BELL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
}

export function shareLockBells(memory: SharedArrayBuffer): void {
  lockBells = new Int32Array(memory);
}

const bellRung = (name: string) => (lockBells ? Atomics.load(lockBells, bellSlot(name)) : 0);

function ringBell(name: string): void {
  if (!lockBells) return;
  Atomics.add(lockBells, bellSlot(name), 1);
  Atomics.notify(lockBells, bellSlot(name));
}

/** Waits up to `ms`, less if the lock's bell rang since it read `rung`. */
function waitForBell(name: string, rung: number, ms: number): void {
  if (lockBells) Atomics.wait(lockBells, bellSlot(name), rung, ms);
  else sleepSync(ms);
}

/** ES2024's Atomics.waitAsync (Node.js has it; the ES2023 library this project compiles against does not declare it). */
type WaitAsync = (a: Int32Array, index: number, value: number, timeoutMs: number) => { async: boolean; value: Promise<string> | string };

async function waitForBellAsync(name: string, rung: number, ms: number): Promise<void> {
  if (!lockBells) return sleep(ms);
  const r = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(lockBells, bellSlot(name), rung, ms);
  if (r.async) await r.value;
}

/**
 * A cross-process mutex: a directory created exclusively, holding the owner's PID so a lock left
 * by a killed process (a stand-in hung by a fault, then killed) is taken over.
 */
export function withLock<T>(dir: string, name: string, fn: () => T): T {
  const lock = paths.lock(dir, name);
  for (let attempt = 0; ; attempt++) {
    const rung = bellRung(name);
    const r = tryLock(lock, attempt);
    if (r === 'taken') break;
    if (r === 'wait') waitForBell(name, rung, lockPauseMs(attempt));
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
    ringBell(name);
  }
}

/**
 * withLock for a holder that waits inside (the driver mutex across a timed phase): waits without
 * blocking the event loop, so a stand-in run in-process (SimMachine.runInProcess) lets the rest
 * of its process, another in-process command included, go on meanwhile.
 */
export async function withLockAsync<T>(dir: string, name: string, fn: () => Promise<T>): Promise<T> {
  const lock = paths.lock(dir, name);
  // A process that has to wait says so in a file while it does, as a task blocked on a kernel
  // mutex shows in the kernel's state: a test waits for that instead of guessing how long.
  const waiter = paths.lockWaiter(dir, name, process.pid);
  let waiting = false;
  try {
    for (let attempt = 0; ; attempt++) {
      const rung = bellRung(name);
      const r = tryLock(lock, attempt);
      if (r === 'taken') break;
      if (r === 'wait' && !waiting) {
        writeFileSync(waiter, '');
        waiting = true;
      }
      if (r === 'wait') await waitForBellAsync(name, rung, lockPauseMs(attempt));
    }
  } finally {
    if (waiting) rmSync(waiter, { force: true });
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
    ringBell(name);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Read-modify-write of the state under the state lock; re-renders the visible files afterwards. */
export function updateState<T>(dir: string, fn: (state: SimState, d: MachineDescription) => T): T {
  const d = readDescription(dir);
  return withLock(dir, 'state', () => {
    const state = readState(dir);
    const result = fn(state, d);
    commitState(dir, state, d);
    return result;
  });
}

/**
 * updateState for a change no file shows (a runner's PID): the state is written, nothing is
 * rendered, so it costs what the change costs.
 */
export function updateHiddenState<T>(dir: string, fn: (state: SimState) => T): T {
  return withLock(dir, 'state', () => {
    const state = readState(dir);
    const result = fn(state);
    blockWhileFrozen(dir);
    writeAtomic(paths.state(dir), JSON.stringify(state));
    return result;
  });
}

/** Writes state and brings the rendered files in line with it. Call with the state lock held. */
export function commitState(dir: string, state: SimState, d: MachineDescription): void {
  blockWhileFrozen(dir);
  applyDerived(state, moduleEffects(d));
  const tree = render(state, d);
  syncTree(dir, readRendered(dir), tree);
  // Written before the state: whatever ends a commit half-way (a request's thread terminated), the
  // record says what the files are, and the next change brings them in line with its state.
  writeAtomic(paths.rendered(dir), JSON.stringify(tree));
  writeAtomic(paths.state(dir), JSON.stringify(state));
  if (state.jailhouse.frozen && !existsSync(paths.frozen(dir))) writeFileSync(paths.frozen(dir), String(process.pid));
}

function readRendered(dir: string): RenderedTree {
  try {
    return JSON.parse(readFileSync(paths.rendered(dir), 'utf8')) as RenderedTree;
  } catch {
    return {}; // A new machine: nothing rendered yet.
  }
}

/** Whether a process other than the one that froze it finds the root side frozen. */
function frozenForMe(dir: string): boolean {
  try {
    return readFileSync(paths.frozen(dir), 'utf8') !== String(process.pid);
  } catch {
    return false;
  }
}

/**
 * A frozen root side runs nothing: a change of its state (and so of sysfs) waits for good, until
 * the machine directory is removed (then it fails, so a test can always clean up).
 */
function blockWhileFrozen(dir: string): void {
  if (!frozenForMe(dir)) return;
  while (existsSync(dir)) sleepSync(100);
  throw new Error(`the simulated machine in ${dir} was destroyed while its root side was frozen`);
}

/** The same for a stand-in tool about to run: it waits (without blocking an in-process caller's event loop). */
export async function waitWhileFrozen(dir: string): Promise<void> {
  if (!frozenForMe(dir)) return;
  // Said in a file, as a task stuck in the kernel shows in its state: a test waits for that.
  const waiter = `${paths.frozen(dir)}.waiting.${process.pid}`;
  try {
    writeFileSync(waiter, '');
  } catch {
    // The machine went meanwhile.
  }
  while (existsSync(dir)) await sleep(100);
  throw new Error(`the simulated machine in ${dir} was destroyed while its root side was frozen`);
}

/** Writes what changed, removes what disappeared (and directories left empty by that). */
export function syncTree(dir: string, previous: RenderedTree, next: RenderedTree): void {
  for (const [rel, content] of Object.entries(next)) {
    const full = join(dir, rel);
    if (content === null) {
      if (!(rel in previous)) mkdirSync(full, { recursive: true });
      continue;
    }
    if (previous[rel] === content) continue;
    mkdirSync(dirname(full), { recursive: true });
    const target = symlinkTarget(content);
    if (target !== undefined) {
      rmSync(full, { force: true });
      symlinkSync(target, full);
      continue;
    }
    writeAtomic(full, Buffer.from(content, renderedEncoding(rel)), modeOf(rel));
  }
  const removed = Object.keys(previous).filter((rel) => !(rel in next));
  // Deepest first, so files go before the directories that held them.
  removed.sort((a, b) => b.length - a.length);
  for (const rel of removed) {
    rmSync(join(dir, rel), { recursive: previous[rel] === null, force: true });
    pruneEmptyParents(dir, dirname(rel), next);
  }
}

const KEEP = new Set(['sys/devices/jailhouse/cells', 'sys/module', 'sys/devices', 'sys', 'dev', 'proc', '.']);

/**
 * Where counters are rewritten by other processes meanwhile (a cell's runner, the tool server for
 * the root cell: counters.ts): a file one of them wrote just as the directory's last rendered file
 * went must not keep the directory (a cell's, a CPU's) alive, so a directory here that the tree no
 * longer has anything under goes with whatever it holds.
 */
const CELLS = 'sys/devices/jailhouse/cells/';

/** Removes directories left empty, up to one the tree still has (or one that always stays). */
function pruneEmptyParents(dir: string, rel: string, next: RenderedTree): void {
  let current = rel;
  while (!KEEP.has(current) && next[current] !== null) {
    const full = join(dir, current);
    try {
      if (current.startsWith(CELLS) && !hasUnder(next, current)) rmSync(full, { recursive: true, force: true, maxRetries: 3 });
      else if (readdirSync(full).length > 0) return;
      else rmdirSync(full);
    } catch {
      return;
    }
    current = dirname(current);
  }
}

function hasUnder(tree: RenderedTree, dirRel: string): boolean {
  const prefix = `${dirRel}/`;
  for (const rel in tree) if (rel.startsWith(prefix)) return true;
  return false;
}

export interface SimLogEntry {
  /** ISO time the operation finished. */
  time: string;
  /** `jailhouse cell create`, `insmod`, `ip addr add`, `cell failed`, … */
  op: string;
  args: string[];
  /** 'ok', or the errno name it failed with, or 'usage' for bad arguments, or 'hang'. */
  result: string;
  exitCode?: number;
  /** Extra facts: the cell or module it touched, the fault that fired, the latency applied. */
  detail?: Record<string, unknown>;
  /**
   * Epoch milliseconds (fractional) of the operation's phases, for entries written by a stand-in
   * tool: `start` when its process started (performance.timeOrigin; the call, when run
   * in-process), `workStart` when its own work began (start-up done; for a jailhouse ioctl, when
   * it asked for the driver lock), `lockAcquired` when it held the driver lock (jailhouse ioctls
   * only), `end` when it finished. Always start <= workStart <= lockAcquired <= end.
   */
  start?: number;
  workStart?: number;
  lockAcquired?: number;
  /** Epoch milliseconds the entry was written (every entry). */
  end?: number;
  /** workStart - start: the tool's start-up (node, bundle, argument and input reading). */
  startupMs?: number;
  /** lockAcquired - workStart: queueing for the driver lock (not the operation's own cost). */
  lockWaitMs?: number;
  /** end - lockAcquired: the section under the driver lock (latency and state change). */
  lockedMs?: number;
  /** end - start. */
  durationMs?: number;
}

/** Phase times of the operation a stand-in is running (epoch ms); see SimLogEntry. */
export interface OperationClock {
  start: number;
  workStart?: number;
  lockAcquired?: number;
}

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

const ms = (x: number) => Math.round(x * 1000) / 1000;

/** The timing fields of a log entry ending now. */
export function timingFields(clock: OperationClock | undefined, end = epochNow()): Partial<SimLogEntry> {
  if (!clock) return { end: ms(end) };
  const workStart = Math.min(clock.workStart ?? end, end);
  const out: Partial<SimLogEntry> = { start: ms(clock.start), workStart: ms(workStart) };
  if (clock.lockAcquired !== undefined) out.lockAcquired = ms(clock.lockAcquired);
  out.end = ms(end);
  out.startupMs = ms(workStart - clock.start);
  if (clock.lockAcquired !== undefined) {
    out.lockWaitMs = ms(clock.lockAcquired - workStart);
    out.lockedMs = ms(end - clock.lockAcquired);
  }
  out.durationMs = ms(end - clock.start);
  return out;
}

export function appendLog(dir: string, entry: Omit<SimLogEntry, 'time'>, clock?: OperationClock): void {
  const end = epochNow();
  appendFileSync(paths.log(dir), `${JSON.stringify({ time: new Date(end).toISOString(), ...entry, ...timingFields(clock, end) })}\n`);
}

/** The operation log, complete lines only: it may be read while a tool appends its line. */
export function readLogSync(dir: string): SimLogEntry[] {
  let text: string;
  try {
    text = readFileSync(paths.log(dir), 'utf8');
  } catch {
    return [];
  }
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SimLogEntry);
}
