/**
 * bringup: 32 cells with drivers and loaders on the simulated machine with per-operation
 * latencies. Reports wall time ÷ the uncontended bound (goal ≤ 1.10) and the sequential sum a
 * shell script would take.
 *
 * The bound is what the bring-up could take if crtosd cost nothing and no operation slowed
 * another down: each operation costs what it cost run alone (measured beforehand, one at a time,
 * through the same Host on a twin machine: the host call up to the driver lock, the section under
 * the lock, and the rest until the call returned), plus its injected hypervisor latency under the
 * lock; a list schedule of those costs respects the unit dependencies and holds the driver lock
 * one at a time, everything else overlapping freely. Nothing in it is measured under crtosd's
 * load, so a daemon that overloads the machine cannot raise its own bound.
 *
 * A second bring-up on a fresh machine serves D-Bus meanwhile (a private bus, one in-process
 * client asking for a unit's status every 10 ms): the answers' latency and the event-loop delay
 * (goals: p99 ≤ 50 ms; nothing synchronous over 10 ms).
 *
 * The event-loop window of both is the bring-up's: from manager.start() (reading the unit files)
 * to the engine idle with every unit up. The delay counts a turn the process waited for a core as
 * much as one it worked through: beside it, each turn over 10 ms is given the CPU its main thread
 * used in it, so synchronous work tells apart from a busy machine's (watchTurns).
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLinuxHost, type Host } from '../src/host/index.js';
import { loadUnits } from '../src/units/index.js';
import { Manager } from '../src/engine/manager.js';
import { memoryStateStore } from '../src/engine/state-file.js';
import { orderPredecessors } from '../src/engine/graph.js';
import type { SimLogEntry } from '../src/sim/store.js';
import { createSynthetic, disposeSynthetic, percentile, type Synthetic } from './synthetic.js';
import { startDbusService } from '../src/dbus/index.js';
import { CrtosClient } from '../src/dbus/client.js';
import { startPrivateBus } from '../test/dbus/helpers/private-bus.js';

/** CPU time of reaped children (cutime + cstime of /proc/self/stat), ms. */
function childCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

/** A turn of the event loop: its wall time and the main thread's CPU in it (and all threads'), ms. */
interface Turn {
  wall: number;
  cpu: number;
  allThreads: number;
}

/**
 * CPU time so far of the main thread (the event loop's: its tid is the pid), from the first field
 * of its schedstat (ns), and of all threads (process.cpuUsage(): V8's GC helpers and libuv's pool
 * too, so a turn could show more CPU than its wall time), ms. The kernel brings a running
 * thread's schedstat up to date only at a scheduler tick (4 ms at HZ=250) or a switch, but
 * getrusage() (cpuUsage) brings the calling thread's up to date first: called just before, the
 * read is exact to the microsecond rather than a tick.
 */
const mainThreadStat = `/proc/self/task/${process.pid}/schedstat`;
function cpuNow(): { main: number; all: number } {
  const all = process.cpuUsage();
  return { main: Number(readFileSync(mainThreadStat, 'utf8').split(' ')[0]) / 1e6, all: (all.user + all.system) / 1000 };
}

/**
 * Watches the event loop's turns from now on: a 1 ms timer notes the wall time since it last ran
 * and the CPU the main thread used meanwhile (beside it, all threads'). stop() gives the turns over 10 ms.
 */
function watchTurns(): { stop(): Turn[] } {
  const long: Turn[] = [];
  let on = true;
  let last = performance.now();
  let lastCpu = cpuNow();
  const tick = () => {
    const now = performance.now();
    const cpu = cpuNow();
    if (now - last > 10) long.push({ wall: now - last, cpu: cpu.main - lastCpu.main, allThreads: cpu.all - lastCpu.all });
    last = performance.now();
    lastCpu = cpuNow();
    if (on) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  return {
    stop: () => {
      on = false;
      return long;
    },
  };
}

/** The turns over 10 ms, and of those the ones the main thread worked through (its CPU over 10 ms). */
function describeTurns(turns: Turn[]): string {
  const worked = turns.filter((t) => t.cpu > 10);
  const longest = [...turns].sort((a, b) => b.cpu - a.cpu)[0];
  const list = worked.length > 0 ? ` [${worked.map((t) => `${t.cpu.toFixed(1)}/${t.wall.toFixed(1)}`).join(', ')} ms]` : '';
  return `${turns.length} turns over 10 ms, ${worked.length} of them with over 10 ms of main-thread CPU (synchronous work; the rest waited for a core)${list}; the most main-thread CPU in one turn ${longest ? `${longest.cpu.toFixed(1)} ms (of ${longest.wall.toFixed(1)} ms wall; all threads ${longest.allThreads.toFixed(1)} ms)` : 'none'}`;
}

const CELLS = Number(process.env.CRTOS_BENCH_CELLS ?? 32);
const LATENCY = { enable: 300, create: 100, load: 50, start: 20, module: 30 };

interface Timing {
  op: string;
  key: string;
  start: number;
  end: number;
}

/** A Host that records when each acting operation ran. */
function timed(host: Host, timings: Timing[]): Host {
  const wrap = <A extends unknown[], R>(op: string, fn: (...a: A) => Promise<R>, key: (...a: A) => string) =>
    async (...a: A): Promise<R> => {
      const start = performance.now();
      try {
        return await fn(...a);
      } finally {
        timings.push({ op, key: key(...a), start, end: performance.now() });
      }
    };
  return Object.assign(Object.create(host) as Host, {
    loadModule: wrap('loadModule', host.loadModule.bind(host), (s) => `driver:${s.name ?? s.path!.split('/').pop()!.replace(/\.ko$/, '')}`),
    enableJailhouse: wrap('enableJailhouse', host.enableJailhouse.bind(host), (_s: string) => 'hypervisor:jailhouse'),
    // The synthetic cell cN is created from /etc/jailhouse/cN.cell.
    createCell: wrap('createCell', host.createCell.bind(host), (c: string) => `cell:${c.split('/').pop()!.replace(/\.cell$/, '')}`),
    loadCell: wrap('loadCell', host.loadCell.bind(host), (name) => `cell:${name}`),
    startCell: wrap('startCell', host.startCell.bind(host), (name) => `cell:${name}`),
    spawn: wrap('spawn', host.spawn.bind(host), (s) => `loader:${s.env.CRTOS_UNIT ?? ''}`),
  });
}

const latencies = {
  'jailhouse enable': LATENCY.enable,
  'jailhouse cell create': LATENCY.create,
  'jailhouse cell load': LATENCY.load,
  'jailhouse cell start': LATENCY.start,
  modprobe: LATENCY.module,
  insmod: LATENCY.module,
};
const latencyOf: Record<string, number> = { enableJailhouse: LATENCY.enable, createCell: LATENCY.create, loadCell: LATENCY.load, startCell: LATENCY.start, loadModule: LATENCY.module };

/** One operation in a schedule: free before the lock, under the lock, free after it. */
interface Cost {
  pre: number;
  locked: number;
  post: number;
}

const unitOfEntry = (e: SimLogEntry): string | undefined => {
  if (e.op === 'modprobe') return `${e.args[0]}.driver`;
  if (e.op === 'insmod') return `${e.args[0]!.split('/').pop()!.replace(/\.ko$/, '')}.driver`;
  if (e.op === 'jailhouse enable') return 'jailhouse.hypervisor';
  if (e.op === 'jailhouse cell create') return typeof e.detail?.cell === 'string' ? `${e.detail.cell}.cell` : undefined;
  if (e.op === 'jailhouse cell load' || e.op === 'jailhouse cell start') return `${e.args[2] === '--name' ? e.args[3] : e.args[2]}.cell`;
  return undefined;
};
const opName: Record<string, string> = { createCell: 'jailhouse cell create', loadCell: 'jailhouse cell load', startCell: 'jailhouse cell start', enableJailhouse: 'jailhouse enable' };
const unitOfKey = (key: string) => (key.startsWith('cell:') ? `${key.slice(5)}.cell` : key.startsWith('driver:') ? `${key.slice(7)}.driver` : key.startsWith('loader:') ? key.slice(7) : 'jailhouse.hypervisor');
/** The machine's log line of a host call: same unit and operation, inside the call's time. */
const loggedFor = (log: SimLogEntry[], t: Timing): SimLogEntry | undefined => {
  const unit = unitOfKey(t.key);
  const start = performance.timeOrigin + t.start;
  const end = performance.timeOrigin + t.end;
  return log.find((e) => unitOfEntry(e) === unit && (opName[t.op] === undefined ? e.op === 'modprobe' || e.op === 'insmod' : e.op === opName[t.op]) && e.start! >= start - 1 && e.end! <= end + 1);
};

/**
 * What each operation costs run alone: the whole bring-up, one host call at a time, on a twin
 * machine without latencies (added back from LATENCY: the simulated hypervisor sleeps them under
 * the lock). Keyed by operation and unit key.
 */
async function uncontendedCosts(): Promise<{ costs: Map<string, Cost>; sequential: number }> {
  const twin = await createSynthetic(CELLS);
  const timings: Timing[] = [];
  const host = timed(createLinuxHost({ root: twin.machine.dir, env: twin.machine.env }), timings);
  await host.loadModule({ name: 'jailhouse' });
  await host.enableJailhouse('/etc/jailhouse/sysconfig.cell');
  for (let i = 1; i <= CELLS; i++) {
    await host.createCell(`/etc/jailhouse/c${i}.cell`);
    await host.loadCell(`c${i}`, [{ file: '/opt/crtos/nuttx.bin', address: 0n }]);
    await host.startCell(`c${i}`);
    await host.loadModule({ path: `/opt/bench/drv${i}.ko` });
    const loader = await host.spawn({ argv: ['/opt/bench/loader'], env: { PATH: process.env.PATH ?? '', CRTOS_UNIT: `l${i}.loader` } });
    process.kill(loader.pid, 'SIGKILL');
  }
  const log = await twin.machine.readLog();
  const costs = new Map<string, Cost>();
  let sequential = 0;
  for (const t of timings) {
    const latency = latencyOf[t.op] ?? 0;
    const e = t.op === 'spawn' ? undefined : loggedFor(log, t);
    const cost: Cost =
      e?.lockAcquired !== undefined
        ? { pre: Math.max(0, e.lockAcquired - (performance.timeOrigin + t.start)), locked: e.end! - e.lockAcquired + latency, post: performance.timeOrigin + t.end - e.end! }
        : { pre: t.end - t.start + latency, locked: 0, post: 0 };
    costs.set(`${t.op} ${t.key}`, cost);
    sequential += cost.pre + cost.locked + cost.post;
  }
  await disposeSynthetic(twin);
  return { costs, sequential };
}

const uncontended = await uncontendedCosts();
const syn = await createSynthetic(CELLS);
await syn.machine.setLatencies(latencies);
// Uncontended invocation of a stand-in tool (as the Host runs it), median of five.
const startupRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  await syn.machine.run('jailhouse', ['--version']);
  startupRuns.push(performance.now() - t);
}
const startup = startupRuns.sort((a, b) => a - b)[2]!;
function managerOf(on: Synthetic, host: Host): Manager {
  return new Manager({
    host,
    loadUnits: () => loadUnits({ directories: [on.unitsDir] }),
    store: memoryStateStore(),
    pollIntervalMs: 0,
    ...(process.env.CRTOS_BENCH_PARALLEL ? { maxParallelJobs: Number(process.env.CRTOS_BENCH_PARALLEL) } : {}),
    ...(process.env.CRTOS_BENCH_LOCKED ? { maxLockedJobs: Number(process.env.CRTOS_BENCH_LOCKED) } : {}),
    loaderEnv: { PATH: process.env.PATH ?? '' },
  });
}
const childCpuBefore = childCpuMs();
const timings: Timing[] = [];
const host = timed(createLinuxHost({ root: syn.machine.dir, env: syn.machine.env }), timings);
const manager = managerOf(syn, host);
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const turnWatch = watchTurns();
const t0 = performance.now();
const selfCpu0 = process.cpuUsage();
await manager.start();
await manager.idle();
const wall = performance.now() - t0;
loopDelay.disable();
const longTurns = turnWatch.stop();
const selfCpu = process.cpuUsage(selfCpu0);
const units = manager.listUnits();
const active = units.filter((u) => u.activeState === 'active').length;
const loaded = await loadUnits({ directories: [syn.unitsDir] });
const set = loaded.set!;
const toolCpu = childCpuMs() - childCpuBefore;
const cores = availableParallelism();

// ---- the schedules ------------------------------------------------------------------------------
const log = await syn.machine.readLog();

/** Each unit's operations in the order the bring-up ran them, at the uncontended cost of each. */
const uncontendedByUnit = new Map<string, Cost[]>();
const byOp = new Map<string, Cost[]>();
for (const [key, cost] of uncontended.costs) byOp.set(key.split(' ')[0]!, [...(byOp.get(key.split(' ')[0]!) ?? []), cost]);
/** An operation the twin did not run (a retry): the median of its kind's uncontended costs. */
const typical = (op: string): Cost => {
  const list = [...(byOp.get(op) ?? [])].sort((x, y) => x.pre + x.locked + x.post - (y.pre + y.locked + y.post));
  return list[Math.floor(list.length / 2)] ?? { pre: 0, locked: 0, post: 0 };
};
for (const t of [...timings].sort((x, y) => x.start - y.start)) {
  const unit = unitOfKey(t.key);
  uncontendedByUnit.set(unit, [...(uncontendedByUnit.get(unit) ?? []), uncontended.costs.get(`${t.op} ${t.key}`) ?? typical(t.op)]);
}

/** The same operations at the cost the machine logged during the bring-up (contended). */
const loggedByUnit = new Map<string, (Cost & { start: number })[]>();
let untimed = 0;
for (const e of log) {
  const unit = unitOfEntry(e);
  if (!unit || e.result !== 'ok') continue;
  if (e.start === undefined || e.workStart === undefined || e.end === undefined) {
    untimed++;
    continue;
  }
  const locked = e.lockAcquired === undefined ? 0 : e.end - e.lockAcquired;
  const pre = e.lockAcquired === undefined ? e.end - e.start : e.workStart - e.start;
  loggedByUnit.set(unit, [...(loggedByUnit.get(unit) ?? []), { pre, locked, post: 0, start: e.start }]);
}
for (const list of loggedByUnit.values()) list.sort((x, y) => x.start - y.start);
// A loader whose cell never came up (a bring-up that failed on an overloaded machine) ran nothing:
// the schedules then cover what ran, and the unit count above says the bring-up was incomplete.
for (const id of set.units.keys()) if (set.units.get(id)!.kind === 'Loader') loggedByUnit.set(id, (uncontendedByUnit.get(id) ?? []).map((c) => ({ ...c, start: 0 })));

/**
 * List schedule: a unit's operations run one after another, its first once every unit it is
 * ordered after has finished; everything but the locked sections overlaps without limit; the
 * lock goes to whichever ready request came first (as the driver mutex does).
 */
function listSchedule(opsByUnit: Map<string, Cost[]>): { makespan: number; lockBusy: number } {
  const unitDone = new Map<string, number>();
  const next = new Map<string, number>(); // index of the next operation per unit
  const readyAt = new Map<string, number>(); // when the unit's next operation may begin
  const ids = [...set.units.keys()];
  let lockFree = 0;
  let lockBusy = 0;
  const tryReady = (id: string): boolean => {
    if (readyAt.has(id) || unitDone.has(id)) return false;
    const preds = orderPredecessors(set, id);
    if (!preds.every((p) => unitDone.has(p))) return false;
    readyAt.set(id, Math.max(0, ...preds.map((p) => unitDone.get(p)!)));
    next.set(id, 0);
    return true;
  };
  const advance = (id: string, at: number) => {
    const ops = opsByUnit.get(id) ?? [];
    const i = next.get(id)! + 1;
    if (i >= ops.length) {
      readyAt.delete(id);
      unitDone.set(id, at);
    } else {
      next.set(id, i);
      readyAt.set(id, at);
    }
  };
  for (;;) {
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const id of ids) if (tryReady(id)) progressed = true;
      // Unlocked operations (and units with none) finish on their own.
      for (const [id, at] of [...readyAt]) {
        const op = (opsByUnit.get(id) ?? [])[next.get(id)!];
        if (!op) {
          readyAt.delete(id);
          unitDone.set(id, at);
          progressed = true;
        } else if (op.locked === 0) {
          advance(id, at + op.pre + op.post);
          progressed = true;
        }
      }
    }
    // Every ready operation now needs the lock: grant it to the earliest request.
    let best: { id: string; request: number; op: Cost } | undefined;
    for (const [id, at] of readyAt) {
      const op = opsByUnit.get(id)![next.get(id)!]!;
      const request = at + op.pre;
      if (!best || request < best.request) best = { id, request, op };
    }
    if (!best) break;
    const begin = Math.max(best.request, lockFree);
    lockFree = begin + best.op.locked;
    lockBusy += best.op.locked;
    advance(best.id, lockFree + best.op.post);
  }
  return { makespan: Math.max(0, ...unitDone.values()), lockBusy };
}
const bound = listSchedule(uncontendedByUnit);
const logged = listSchedule(loggedByUnit);

// The daemon's own time between operations: from an operation's end to the next operation of
// the same unit starting (its process start), and from the end of a unit's last predecessor to
// its first operation starting.
const withinGaps: number[] = [];
const dependencyGaps: number[] = [];
const toolOps = new Map<string, { start: number; end: number }[]>();
for (const e of log) {
  const unit = unitOfEntry(e);
  if (!unit || e.result !== 'ok' || e.start === undefined || e.end === undefined) continue;
  toolOps.set(unit, [...(toolOps.get(unit) ?? []), { start: e.start, end: e.end }]);
}
for (const [id, ops] of toolOps) {
  ops.sort((x, y) => x.start - y.start);
  for (let i = 1; i < ops.length; i++) withinGaps.push(ops[i]!.start - ops[i - 1]!.end);
  const predEnds = orderPredecessors(set, id).map((p) => toolOps.get(p)?.at(-1)?.end).filter((x): x is number => x !== undefined);
  if (predEnds.length > 0) dependencyGaps.push(ops[0]!.start - Math.max(...predEnds));
}
const describeGaps = (g: number[]) => {
  const sorted = [...g].sort((x, y) => x - y);
  return `median ${(sorted[Math.floor(sorted.length / 2)] ?? NaN).toFixed(0)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms over ${g.length}`;
};

// Between the host boundary and the tool: host call → the tool's process start (spawn, the shell
// wrapper, the client), the tool's end → the host call returning (exit, and the host's own
// checks), and within a cell job, one host call returning → the next one made (the engine's own time).
const hostCalls = timings.filter((t) => t.op === 'createCell' || t.op === 'loadCell' || t.op === 'startCell' || t.op === 'loadModule' || t.op === 'enableJailhouse');
const spawnLags: number[] = [];
const exitLags: number[] = [];
const engineGaps: number[] = [];
for (const t of hostCalls) {
  const e = loggedFor(log, t);
  if (!e) continue;
  spawnLags.push(e.start! - (performance.timeOrigin + t.start));
  exitLags.push(performance.timeOrigin + t.end - e.end!);
}
const cellCalls = new Map<string, Timing[]>();
for (const t of hostCalls) if (t.key.startsWith('cell:')) cellCalls.set(t.key, [...(cellCalls.get(t.key) ?? []), t]);
for (const calls of cellCalls.values()) {
  calls.sort((x, y) => x.start - y.start);
  for (let i = 1; i < calls.length; i++) engineGaps.push(calls[i]!.start - calls[i - 1]!.end);
}

// Where the real lock sat idle during the bring-up: between one holder's end and the next
// acquisition, with a request already waiting (hand-over) or with none (nothing was ready to ask).
const lockedEntries = log.filter((e) => e.lockAcquired !== undefined && e.end !== undefined && e.workStart !== undefined).sort((x, y) => x.lockAcquired! - y.lockAcquired!);
let handover = 0;
let nobodyAsked = 0;
for (let i = 1; i < lockedEntries.length; i++) {
  const prev = lockedEntries[i - 1]!;
  const cur = lockedEntries[i]!;
  const gap = Math.max(0, cur.lockAcquired! - prev.end!);
  const asked = Math.min(cur.lockAcquired!, Math.max(prev.end!, cur.workStart!));
  handover += cur.lockAcquired! - asked;
  nobodyAsked += gap - (cur.lockAcquired! - asked);
}
const sum = (m: Map<string, Cost[]>) => [...m.values()].flat().reduce((acc, o) => acc + o.pre + o.locked + o.post, 0);
const delay = (q: number) => loopDelay.percentile(q) / 1e6;

console.log(`units: ${units.length} (${active} active), operations: ${timings.length} (${log.length} logged by the machine${untimed ? `, ${untimed} without times` : ''})`);
console.log(`wall time:           ${wall.toFixed(0)} ms`);
console.log(`bound:               ${bound.makespan.toFixed(0)} ms (list schedule of uncontended costs measured alone on a twin machine: dependencies, the driver lock one at a time; ${bound.lockBusy.toFixed(0)} ms under the lock)`);
console.log(`ratio wall/bound:    ${(wall / bound.makespan).toFixed(3)} (goal <= 1.10)`);
console.log(`  logged-cost bound: ${logged.makespan.toFixed(0)} ms (the same schedule at the costs logged during this bring-up, contended; ratio ${(wall / logged.makespan).toFixed(3)})`);
console.log(`lock idle:           ${(handover + nobodyAsked).toFixed(0)} ms between holders: ${handover.toFixed(0)} ms hand-over with a request waiting, ${nobodyAsked.toFixed(0)} ms with no request`);
console.log(`daemon gaps:         next operation of the same unit ${describeGaps(withinGaps)}; after a dependency ${describeGaps(dependencyGaps)}`);
console.log(`  host boundary:     call → tool process start ${describeGaps(spawnLags)}; tool end → call returns ${describeGaps(exitLags)}; engine between a cell's calls ${describeGaps(engineGaps)}`);
console.log(`sequential sum:      ${uncontended.sequential.toFixed(0)} ms (a shell script, one thing after another, as measured on the twin plus latencies); speed-up ${(uncontended.sequential / wall).toFixed(2)}x`);
console.log(`  logged-cost sum:   ${sum(loggedByUnit).toFixed(0)} ms (the same operations at their logged, contended cost)`);
console.log(`tool invocation:     ${startup.toFixed(1)} ms uncontended (jailhouse --version through the Host's way: the wrapper on PATH)`);
console.log(`event-loop delay:    p50 ${delay(50).toFixed(1)} ms, p99 ${delay(99).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms during the bring-up, from reading the unit files to every unit up (goal: nothing over 10 ms)`);
console.log(`  long turns:        ${describeTurns(longTurns)}`);
console.log(`CPU:                 daemon ${((selfCpu.user + selfCpu.system) / 1000).toFixed(0)} ms (the engine's own work), tool processes ${toolCpu.toFixed(0)} ms (reaped children: wrappers and clients, not the tool server) on ${cores} cores`);
const stopLoaders = (list: typeof units) => {
  for (const u of list) if (u.details.kind === 'Loader' && u.details.pid) process.kill(u.details.pid as number, 'SIGKILL');
};
manager.close();
stopLoaders(units);
if (process.env.CRTOS_BENCH_LOG) copyFileSync(join(syn.machine.dir, 'ops.log'), process.env.CRTOS_BENCH_LOG);
await disposeSynthetic(syn);

// ---- D-Bus answers during a bring-up -------------------------------------------------------------
const served = await createSynthetic(CELLS);
await served.machine.setLatencies(latencies);
const bus = await startPrivateBus();
const servedManager = managerOf(served, createLinuxHost({ root: served.machine.dir, env: served.machine.env }));
const service = await startDbusService(servedManager, { busAddress: bus.address });
const client = await CrtosClient.connect(bus.address, {});
const answers: number[] = [];
let asking = true;
const asked: Promise<void>[] = [];
const ask = async (i: number) => {
  const t = performance.now();
  await client.unit(`c${(i % CELLS) + 1}.cell`);
  answers.push(performance.now() - t);
};
const servedDelay = monitorEventLoopDelay({ resolution: 1 });
servedDelay.enable();
const servedTurns = watchTurns();
const ticker = (async () => {
  for (let i = 0; asking; i++) {
    asked.push(ask(i));
    await new Promise((r) => setTimeout(r, 10));
  }
})();
const s0 = performance.now();
await servedManager.start();
await servedManager.idle();
const servedWall = performance.now() - s0;
asking = false;
await ticker;
await Promise.all(asked);
servedDelay.disable();
const servedLongTurns = servedTurns.stop();
answers.sort((x, y) => x - y);
console.log(`D-Bus during bring-up: ${answers.length} unit status calls in ${servedWall.toFixed(0)} ms; answered p50 ${percentile(answers, 50).toFixed(1)} ms, p99 ${percentile(answers, 99).toFixed(1)} ms, max ${(answers.at(-1) ?? NaN).toFixed(1)} ms (goal p99 <= 50 ms)`);
console.log(`  event-loop delay:  p50 ${(servedDelay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(servedDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(servedDelay.max / 1e6).toFixed(1)} ms while serving D-Bus`);
console.log(`  long turns:        ${describeTurns(servedLongTurns)}`);
client.close();
await service.close();
await bus.stop();
const servedUnits = servedManager.listUnits();
servedManager.close();
stopLoaders(servedUnits);
await disposeSynthetic(served);
