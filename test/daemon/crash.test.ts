/**
 * Crash consistency (issue 10, acceptance): the real crtosd process brings the cRTOS example up on
 * a fresh simulated machine, is SIGKILLed at a seeded moment of that bring-up, and is started
 * again. Then: the restarted daemon reports every unit active; no cell was destroyed or touched
 * again once it started, no loader started twice, no module (nor any other operation) done twice;
 * and one more restart (`crtosd --once`) performs zero mutating operations.
 *
 * The moment is an event, never a delay: right after the n-th mutating operation appears in the
 * machine's log, once the n-th mutating tool crtosd runs has started, or while the n-th mutating
 * `jailhouse` command holds the driver lock. Each seed picks one of these 26 points (consecutive
 * seeds walk through all of them, so the default 26 runs cover each once) and small latencies of
 * the machine's operations, which vary the interleavings of the parallel jobs; the operation a
 * kill lands inside is made slow (400 ms), so it is still running when crtosd starts again. Runs
 * go two at a time; each has its own machine, units and state directory.
 *
 *   CRTOS_CRASH_SEED=N   first seed (default 1); runs use N, N+1, …
 *   CRTOS_CRASH_RUNS=M   how many runs (default 26)
 *
 * A failing run's message starts with its seed and kill point; `CRTOS_CRASH_SEED=<seed>
 * CRTOS_CRASH_RUNS=1 npx vitest run test/daemon/crash.test.ts` runs it again.
 */
import { afterEach, expect, test } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ALL_ACTIVE, makeFixture, opLine, type Fixture } from '../engine/harness.js';
import type { SimLogEntry, SimOperation } from '../../src/sim/index.js';
import { readLogSync } from '../../src/sim/store.js';
import { startDaemon } from './run.js';
import { changesOf, dataOf, eventsOf, every, waitFor, type WakeSource } from '../helpers/wait-for.js';

type Daemon = ReturnType<typeof startDaemon>;

// ---------------------------------------------------------------------------------------------
// Seeds and kill points

type KillPoint = { at: 'logged' | 'started' | 'locked'; n: number };

/** 11 mutating operations in a bring-up: modprobe, enable, 2 insmod, ip addr add, ip link set, create, load, start, chrt, loader. */
const KILL_POINTS: KillPoint[] = [
  ...range(0, 11).map((n): KillPoint => ({ at: 'logged', n })),
  // The 10th tool crtosd runs is chrt, which becomes the loader.
  ...range(1, 10).map((n): KillPoint => ({ at: 'started', n })),
  // enable, cell create, cell load, cell start.
  ...range(1, 4).map((n): KillPoint => ({ at: 'locked', n })),
];

const BASE_SEED = intFromEnv('CRTOS_CRASH_SEED', 1);
const RUNS = intFromEnv('CRTOS_CRASH_RUNS', KILL_POINTS.length);
const PARALLEL = 2;
const SEEDS = range(BASE_SEED, BASE_SEED + RUNS - 1);

const LATENCY_OPS: SimOperation[] = ['modprobe', 'insmod', 'jailhouse enable', 'jailhouse cell create', 'jailhouse cell load', 'jailhouse cell start', 'ip addr add', 'ip link set', 'chrt'];
/** The mutating tools of a bring-up in the order crtosd starts them (the two insmods run together). */
const TOOL_ORDER: SimOperation[] = ['modprobe', 'jailhouse enable', 'insmod', 'insmod', 'ip addr add', 'ip link set', 'jailhouse cell create', 'jailhouse cell load', 'jailhouse cell start', 'chrt'];
const JAILHOUSE_ORDER: SimOperation[] = ['jailhouse enable', 'jailhouse cell create', 'jailhouse cell load', 'jailhouse cell start'];
/**
 * The operation a run kills crtosd inside takes this long (as a real `jailhouse enable` or module
 * init may), so it outlives the daemon and is still running when the next one starts.
 */
const SLOW_MS = 400;
/**
 * Deadlines of the waits of a run, which bound only a run that failed: on the busy 2-core machine
 * (two vitest workers beside a CPU hog and the other suites) the first crtosd took 26 s to run its
 * first tool, a restarted one 25 s to report every unit active.
 */
const WAIT_MS = 60_000;
/**
 * A run's own deadline counts from the test's start, so it covers the wait for a slot too (vitest
 * starts up to 5 concurrent tests, PARALLEL of them run): runs took up to 150 s so on that machine.
 */
const RUN_TIMEOUT_MS = 400_000;

interface RunPlan {
  seed: number;
  point: KillPoint;
  /** Operation → ms: 0–50 from the seed, SLOW_MS for the operation the kill lands in. */
  latencies: Partial<Record<SimOperation, number>>;
}

function planOf(seed: number): RunPlan {
  const random = mulberry32(seed);
  const latencies: Partial<Record<SimOperation, number>> = {};
  for (const op of LATENCY_OPS) latencies[op] = 10 * Math.floor(random() * 6);
  const point = KILL_POINTS[seed % KILL_POINTS.length]!;
  const inside = point.at === 'started' ? TOOL_ORDER[point.n - 1] : point.at === 'locked' ? JAILHOUSE_ORDER[point.n - 1] : undefined;
  if (inside) latencies[inside] = SLOW_MS;
  return { seed, point, latencies };
}

function describePoint(p: KillPoint): string {
  if (p.at === 'logged') return p.n === 0 ? 'as soon as crtosd says it is starting, before any operation' : `right after the ${ordinal(p.n)} mutating operation is logged`;
  if (p.at === 'started') return `once the ${ordinal(p.n)} mutating tool crtosd runs has started`;
  return `while the ${ordinal(p.n)} mutating jailhouse command holds the driver lock`;
}

// ---------------------------------------------------------------------------------------------
// Per-run resources, released in afterEach (two runs at a time)

interface RunResources {
  fixture?: Fixture;
  daemons: Daemon[];
  release: () => void;
}
const resources = new Map<string, RunResources>();
const slots = semaphore(PARALLEL);

afterEach(async ({ task }) => {
  const r = resources.get(task.id);
  if (!r) return;
  resources.delete(task.id);
  try {
    for (const d of r.daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    await Promise.all(r.daemons.map((d) => d.exited));
    // Loaders, tools left running, cell runners: everything that runs for this machine.
    if (r.fixture) for (const pid of machineProcesses(r.fixture.machine.dir)) kill(pid);
    await r.fixture?.cleanup();
  } finally {
    r.release();
  }
});

// ---------------------------------------------------------------------------------------------
// The runs

console.log(`crash test: ${RUNS} runs, seeds ${BASE_SEED}…${BASE_SEED + RUNS - 1} (CRTOS_CRASH_SEED=${BASE_SEED}), ${PARALLEL} at a time`);

for (const plan of SEEDS.map(planOf)) {
  test.concurrent(`seed ${plan.seed}: SIGKILL ${describePoint(plan.point)}; started again, it converges, nothing is done twice, a further restart changes nothing`, { timeout: RUN_TIMEOUT_MS }, async ({ task }) => {
    const res: RunResources = { daemons: [], release: await slots.acquire() };
    resources.set(task.id, res);
    await crashRun(plan, res);
  });
}

async function crashRun(plan: RunPlan, res: RunResources): Promise<void> {
  const f = (res.fixture = await makeFixture());
  await f.machine.setLatencies(plan.latencies);
  const notify = notifyStandIn(f);
  const t: Timeline = { start: Date.now() };
  const outputs: Record<string, Daemon> = {};
  let killedWhen = '(not reached)';
  const context = (): string => report(plan, f, t, killedWhen, outputs);
  const fail = (e: unknown): never => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${context()}`);
  };

  // 1. Bring-up, killed at the seed's point.
  const first = (outputs['first crtosd'] = startDaemon(f, [], notify.env));
  res.daemons.push(first);
  killedWhen = await reachKillPoint(f, first, plan.point).catch(fail);
  first.child.kill('SIGKILL');
  t.kill = Date.now();
  await first.exited;
  // What the restarted daemon will find of the tools still running: records in the state directory.
  t.recordsAtKill = toolRunRecords(f);

  // 2. Started again: it reports (sd_notify) every unit active.
  t.restart = Date.now();
  const second = (outputs['restarted crtosd'] = startDaemon(f, [], notify.env));
  res.daemons.push(second);
  const pid = second.child.pid!;
  const status = await waitFor(
    `the restarted crtosd (pid ${pid}) to report READY=1 with every unit active`,
    () => {
      if (exited(second)) throw new Error(`the restarted crtosd exited (${second.child.exitCode ?? second.child.signalCode}) before it was ready`);
      const s = readiness(notify.file, pid);
      return s.ready && s.status === `${Object.keys(ALL_ACTIVE).length} units: ${Object.keys(ALL_ACTIVE).length} active` ? s.status : undefined;
    },
    { sources: [changesOf(notify.file), every(100)], timeoutMs: WAIT_MS },
  ).catch((e: unknown) => fail(`${String(e)} (last status: ${readiness(notify.file, pid).status ?? 'none'})`));
  t.ready = Date.now();
  second.child.kill('SIGTERM');
  expect(await second.exited, `the restarted crtosd exits 0 on SIGTERM\n${context()}`).toBe(0);

  // 3. One more restart: --once reads the machine, finds everything as described, changes nothing.
  // Once no tool an earlier daemon started is still running (a loader adopted by the restarted
  // daemon may still be in its chrt), so whatever is logged from now on is the restart's doing.
  await waitFor('no stand-in tool of the machine running any more (only the loader and the cell runner)', () => (quiet(f) ? true : undefined), { sources: [every(20)], timeoutMs: WAIT_MS }).catch(fail);
  t.once = Date.now();
  const once = (outputs['crtosd --once'] = startDaemon(f, ['--once']));
  res.daemons.push(once);
  await waitFor('crtosd --once to exit', () => (exited(once) ? true : undefined), { sources: [exitOf(once)], timeoutMs: WAIT_MS }).catch(fail);
  const ctx = context();
  const awaited = second.output().split('\n').filter((l) => l.includes('started by the previous crtosd, is still running')).length;
  console.log(
    `crash seed ${plan.seed}: SIGKILL ${describePoint(plan.point)} (${killedWhen}), ${t.kill! - t.start} ms into the bring-up; ` +
      `${t.recordsAtKill.length} tool run(s) recorded at the kill; restarted crtosd awaited ${awaited} tool(s) of its predecessor, reported "${status}" after ${t.ready - t.restart} ms`,
  );

  const units = Object.fromEntries(
    once
      .output()
      .split('\n')
      .map((l) => /^(\S+\.[a-z]+)\s+(\S+)\s+\S+\s+\S+/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  expect(units, `every unit active, as crtosd --once reports them\n${ctx}`).toEqual(Object.fromEntries(Object.keys(ALL_ACTIVE).map((id) => [id, 'active'])));
  expect(once.child.exitCode, `crtosd --once exits 0\n${ctx}`).toBe(0);

  const log = readOps(f);
  const mutating = log.filter((e) => !isReadOp(e.op));
  expect(mutating.filter((e) => (e.start ?? e.end ?? 0) >= t.once!).map(opLine), `the restart after a completed bring-up performs no mutating operation\n${ctx}`).toEqual([]);

  // Nothing was taken down, and the cell was left alone once it ran.
  const undo = /^(rmmod|ip addr del|jailhouse (disable|cell (shutdown|destroy)))$/;
  expect(mutating.filter((e) => undo.test(e.op)).map(opLine), `nothing is stopped, unloaded or destroyed\n${ctx}`).toEqual([]);
  const started = mutating.findIndex((e) => e.op === 'jailhouse cell start' && e.result === 'ok');
  expect(started, `the cell was started\n${ctx}`).toBeGreaterThanOrEqual(0);
  const touchesCell = /^jailhouse (enable|disable|cell (create|load|start|shutdown|destroy))$/;
  expect(mutating.slice(started + 1).filter((e) => touchesCell.test(e.op)).map(opLine), `once the cell started, it is not shut down, destroyed, created, loaded or started again\n${ctx}`).toEqual([]);

  // Nothing done twice: each module loaded once, the cell created once, the address added once…
  // except `cell load` before the cell's start: the machine does not show whether a cell holds its
  // image (sysfs reads `shut down` before and after), so a start that was interrupted after the
  // create is finished by loading again, which is idempotent.
  const done = new Map<string, number>();
  for (const e of mutating.slice(0, started).filter((x) => x.op !== 'jailhouse cell load').concat(mutating.slice(started))) {
    if (e.result === 'ok' && e.op !== 'loader') done.set(opLine(e), (done.get(opLine(e)) ?? 0) + 1);
  }
  expect([...done].filter(([, n]) => n > 1), `each operation succeeded at most once\n${ctx}`).toEqual([]);

  // One loader: spawned once (one chrt, one loader start), one process, the one crtosd knows.
  const count = (op: string) => log.filter((e) => e.op === op).length;
  expect({ chrt: count('chrt'), loader: count('loader') }, `the loader is started once\n${ctx}`).toEqual({ chrt: 1, loader: 1 });
  const loaders = machineProcesses(f.machine.dir).filter((p) => cmdline(p).includes('loader\0/opt/crtos/apps/hello'));
  expect(loaders, `one live loader process, the one in crtosd's state\n${ctx}`).toEqual([recordedLoaderPid(f)]);

  const machine = await f.machine.state();
  expect(
    { modules: machine.modules.map((m) => m.name).sort(), cells: machine.jailhouse.cells.map((c) => `${c.name} ${c.state}`) },
    `the machine is up\n${ctx}`,
  ).toEqual({ modules: ['ivshmem_net', 'jailhouse', 'shadow'], cells: ['nuttx running'] });
}

// ---------------------------------------------------------------------------------------------
// Reaching the kill point

/** Resolves, with what happened, at the plan's kill point of `d`'s bring-up. */
function reachKillPoint(f: Fixture, d: Daemon, point: KillPoint): Promise<string> {
  const tools = new ToolTracker(d.child.pid!, f.machine.binDir);
  const lock = join(f.machine.dir, '.sim', 'jailhouse.lock', 'owner');
  const sources: WakeSource[] =
    point.at === 'logged' ? [changesOf(logPath(f)), dataOf(d.child.stdout), dataOf(d.child.stderr), every(20)] : [every(2)];
  return waitFor(
    `the kill point: ${describePoint(point)}`,
    () => {
      if (exited(d)) throw new Error(`crtosd exited (${d.child.exitCode ?? d.child.signalCode}) before the kill point`);
      if (point.at === 'logged') {
        if (point.n === 0) return d.output().includes(' starting"') ? 'crtosd logged that it is starting' : undefined;
        const e = readOps(f).filter((x) => !isReadOp(x.op))[point.n - 1];
        return e ? `\`${opLine(e)}\` logged` : undefined;
      }
      tools.poll(readOps(f));
      if (point.at === 'started') {
        const s = tools.started[point.n - 1];
        return s ? `\`${s.op}\` started, pid ${s.pid}` : undefined;
      }
      const s = tools.started.filter((x) => x.op.startsWith('jailhouse '))[point.n - 1];
      if (!s) return undefined;
      if (readPid(lock) === s.pid) return `\`${s.op}\` holds the driver lock, pid ${s.pid}`;
      // The lock is held for 15–70 ms; a poll that missed it kills right after the command.
      return ended(s.pid) ? `\`${s.op}\` ended before its lock was seen held: killed after it` : undefined;
    },
    { sources, timeoutMs: WAIT_MS },
  );
}

/**
 * The stand-in tools crtosd has started, in order: from its children in /proc while they run, and
 * from the machine's log for those that came and went between two looks (a stand-in takes a few
 * milliseconds, as a real tool does, so a poll can miss one on a busy machine).
 */
class ToolTracker {
  private readonly seen: { pid: number; op: string }[] = [];
  private logged: SimLogEntry[] = [];
  private readonly known = new Set<number>();

  /** Ended tools in the order they were logged, each with the PID seen for it if one was; then the running ones. */
  get started(): { pid: number; op: string }[] {
    const running = [...this.seen];
    const ended = this.logged.map((e) => {
      const i = running.findIndex((s) => s.op === e.op || s.op.startsWith(`${e.op} `));
      return i >= 0 ? running.splice(i, 1)[0]! : { pid: 0, op: e.op };
    });
    return [...ended, ...running];
  }
  constructor(
    private readonly daemon: number,
    private readonly binDir: string,
  ) {}

  poll(log: readonly SimLogEntry[]): void {
    this.logged = log.filter((e) => (LATENCY_OPS as readonly string[]).includes(e.op));
    let children: number[];
    try {
      children = readFileSync(`/proc/${this.daemon}/task/${this.daemon}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return;
    }
    for (const pid of children) {
      if (this.known.has(pid)) continue;
      const argv = cmdline(pid).split('\0').filter(Boolean);
      // Forked, not yet exec'd (still crtosd's command line), or gone: look again next time.
      if (argv.length === 0 || argv.some((a) => a.endsWith('/crtosd.mjs'))) continue;
      this.known.add(pid);
      const op = toolOp(argv, this.binDir);
      if (op !== undefined && !isReadCommand(op)) this.seen.push({ pid, op });
    }
  }
}

/** `jailhouse cell create /…` from a stand-in's command line (its shell wrapper or the node bundle), else undefined. */
function toolOp(argv: string[], binDir: string): string | undefined {
  const bundle = argv.findIndex((a) => a.endsWith('/crtos-sim-tool.mjs'));
  if (bundle >= 0) return argv.slice(bundle + 1).join(' ');
  const wrapper = argv.findIndex((a) => a.startsWith(`${binDir}/`));
  return wrapper >= 0 ? [basename(argv[wrapper]!), ...argv.slice(wrapper + 1)].join(' ') : undefined;
}

// ---------------------------------------------------------------------------------------------
// The machine's log, processes and crtosd's own reports

/** What harness `f.ops()` leaves out: reads. */
const READ_OPS = new Set(['ip addr show', 'ip link show', 'jailhouse cell list', 'jailhouse console']);
const isReadOp = (op: string) => READ_OPS.has(op);
const isReadCommand = (command: string) => /^ip( -\S+)* (addr|link) show\b/.test(command) || /^jailhouse (cell list|console)\b/.test(command);

const logPath = (f: Fixture) => join(f.machine.dir, 'ops.log');

/** The machine's log, complete lines only (it may be read while a tool appends to it). */
function readOps(f: Fixture): SimLogEntry[] {
  return readLogSync(f.machine.dir);
}

/**
 * crtosd tells systemd READY=1 and STATUS= through `systemd-notify`, found on its PATH; this
 * stand-in appends its arguments to the file named by NOTIFY_SOCKET.
 */
function notifyStandIn(f: Fixture): { env: NodeJS.ProcessEnv; file: string } {
  const bin = join(f.dir, 'notify-bin');
  mkdirSync(bin, { recursive: true });
  const file = join(f.dir, 'notify.log');
  writeFileSync(file, '');
  writeFileSync(join(bin, 'systemd-notify'), `#!/bin/sh\n# stand-in systemd-notify: one line of arguments per call\nprintf '%s\\n' "$*" >> "$NOTIFY_SOCKET"\n`, { mode: 0o755 });
  return { file, env: { NOTIFY_SOCKET: file, PATH: `${bin}:${f.machine.env.PATH ?? ''}` } };
}

/** What crtosd `pid` told systemd: READY=1 yet, and its last STATUS=. */
function readiness(file: string, pid: number): { ready: boolean; status?: string } {
  const out: { ready: boolean; status?: string } = { ready: false };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith(`--pid=${pid} `)) continue;
    if (/ READY=1( |$)/.test(line)) out.ready = true;
    const status = / STATUS=(.*)$/.exec(line);
    if (status) out.status = status[1];
  }
  return out;
}

/** The tool runs recorded in the state directory (one file each), as `pid argv…`. */
function toolRunRecords(f: Fixture): string[] {
  const dir = join(f.stateDir, 'tools');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((n) => {
    try {
      const r = JSON.parse(readFileSync(join(dir, n), 'utf8')) as { pid: number; argv: string[] };
      return `pid ${r.pid} ${r.argv.join(' ')}`;
    } catch {
      return n;
    }
  });
}

function recordedLoaderPid(f: Fixture): number | undefined {
  const state = JSON.parse(readFileSync(join(f.stateDir, 'state.json'), 'utf8')) as { units: Record<string, { facts?: { pid?: number } }> };
  return state.units['hello.loader']?.facts?.pid;
}

/** Live processes that belong to this machine (stand-in tools, loaders, cell runners), by their environment. */
function machineProcesses(dir: string): number[] {
  const mark = `CRTOS_SIM_DIR=${dir}\0`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || ended(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(mark)) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** No stand-in tool of the machine runs: only the loader's program and the inmate host. */
function quiet(f: Fixture): boolean {
  return machineProcesses(f.machine.dir).every((pid) => {
    const op = toolOp(cmdline(pid).split('\0').filter(Boolean), f.machine.binDir);
    return op === undefined || /^(loader|inmates) /.test(op);
  });
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** Gone, or a zombie. */
function ended(pid: number): boolean {
  try {
    return /^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function readPid(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

const exited = (d: Daemon) => d.child.exitCode !== null || d.child.signalCode !== null;
const exitOf = (d: Daemon): WakeSource => eventsOf(d.child, 'exit');

// ---------------------------------------------------------------------------------------------
// The failure report: seed, kill point, the operation log by daemon, the daemons' output

interface Timeline {
  start: number;
  kill?: number;
  restart?: number;
  ready?: number;
  once?: number;
  /** The tool runs crtosd had recorded in its state directory (`tools/`) when it was killed. */
  recordsAtKill?: string[];
}

function report(plan: RunPlan, f: Fixture, t: Timeline, killedWhen: string, outputs: Record<string, Daemon>): string {
  const rel = (ms: number | undefined) => (ms === undefined ? '     ?' : `+${Math.round(ms - t.start)}`.padStart(6));
  const who = (e: SimLogEntry) => {
    const at = e.start ?? e.end ?? 0;
    if (e.start === undefined) return 'sim ';
    if (t.once !== undefined && at >= t.once) return '[3] ';
    if (t.restart !== undefined && at >= t.restart) return '[2] ';
    return '[1] ';
  };
  const lines = readOps(f).map((e) => `  ${who(e)}${rel(e.start)} → ${rel(e.end)}  ${opLine(e)}`);
  const tail = (d: Daemon) =>
    d
      .output()
      .trim()
      .split('\n')
      .slice(-25)
      .map((l) => `    ${l}`)
      .join('\n');
  return [
    '',
    `crash run: seed ${plan.seed}, SIGKILL ${describePoint(plan.point)}: ${killedWhen}, at ${rel(t.kill)} ms`,
    `  reproduce: CRTOS_CRASH_SEED=${plan.seed} CRTOS_CRASH_RUNS=1 npx vitest run test/daemon/crash.test.ts`,
    `  latencies: ${JSON.stringify(plan.latencies)}`,
    `  tool runs recorded in the state directory at the kill: ${t.recordsAtKill === undefined ? '?' : t.recordsAtKill.length === 0 ? 'none' : t.recordsAtKill.join('; ')}`,
    `operations (ms since the first crtosd started; [1] first crtosd, [2] restarted at ${rel(t.restart)}, [3] crtosd --once at ${rel(t.once)}, by start):`,
    ...lines,
    ...Object.entries(outputs).map(([name, d]) => `${name} (last lines):\n${tail(d)}`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Small things

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** At most `n` holders at a time; acquire() resolves with the release. */
function semaphore(n: number): { acquire(): Promise<() => void> } {
  let free = n;
  const waiting: (() => void)[] = [];
  return {
    async acquire() {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const next = waiting.shift();
        if (next) next();
        else free++;
      };
    },
  };
}
