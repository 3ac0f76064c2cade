/**
 * bringup: 32 cells with drivers and loaders on the simulated machine with per-operation
 * latencies. Reports wall time ÷ the lower bound (goal ≤ 1.10) and the sequential sum a shell
 * script would take.
 *
 * The bound comes from the operation times the simulated machine logged (ops.log: process start,
 * lock request, lock acquired, end), so it includes the stand-in tools' real start-up on this
 * machine, contention for the cores included, and the ratio measures the daemon, not the
 * simulator. Each operation costs its start-up plus its section under the driver lock (the wait
 * for the lock is not its own); the bound is a list schedule of those costs that respects the
 * unit dependencies and runs the locked sections one at a time, start-ups overlapping freely.
 * Loaders are not simulator tools: their cost is the fastest spawn measured at the host boundary.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { createLinuxHost, type Host } from '../src/host/index.js';
import { loadUnits } from '../src/units/index.js';
import { Manager } from '../src/engine/manager.js';
import { memoryStateStore } from '../src/engine/state-file.js';
import { orderPredecessors } from '../src/engine/graph.js';
import type { SimLogEntry } from '../src/sim/store.js';
import type { UnitOf } from '../src/units/types.js';
import { createSynthetic, disposeSynthetic } from './synthetic.js';

/** CPU time of reaped children (cutime + cstime of /proc/self/stat), ms. */
function childCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

const CELLS = Number(process.env.CRTOS_BENCH_CELLS ?? 32);
const LATENCY = { enable: 300, create: 100, load: 50, start: 20, module: 30 };
const LOCKED: Record<string, number> = { enableJailhouse: LATENCY.enable, createCell: LATENCY.create, loadCell: LATENCY.load, startCell: LATENCY.start };

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

const syn = await createSynthetic(CELLS);
await syn.machine.setLatencies({
  'jailhouse enable': LATENCY.enable,
  'jailhouse cell create': LATENCY.create,
  'jailhouse cell load': LATENCY.load,
  'jailhouse cell start': LATENCY.start,
  modprobe: LATENCY.module,
  insmod: LATENCY.module,
});
// Uncontended start-up of a stand-in tool (node + the bundled tool), median of five.
const startupRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  await syn.machine.run('jailhouse', ['--version']);
  startupRuns.push(performance.now() - t);
}
const startup = startupRuns.sort((a, b) => a - b)[2]!;
const childCpuBefore = childCpuMs();
const timings: Timing[] = [];
const host = timed(createLinuxHost({ root: syn.machine.dir, env: syn.machine.env }), timings);
const manager = new Manager({
  host,
  loadUnits: () => loadUnits({ directories: [syn.unitsDir] }),
  store: memoryStateStore(),
  pollIntervalMs: 0,
  ...(process.env.CRTOS_BENCH_PARALLEL ? { maxParallelJobs: Number(process.env.CRTOS_BENCH_PARALLEL) } : {}),
  ...(process.env.CRTOS_BENCH_LOCKED ? { maxLockedJobs: Number(process.env.CRTOS_BENCH_LOCKED) } : {}),
  loaderEnv: { PATH: process.env.PATH ?? '' },
});
const t0 = performance.now();
const selfCpu0 = process.cpuUsage();
await manager.start();
await manager.idle();
const wall = performance.now() - t0;
const selfCpu = process.cpuUsage(selfCpu0);
const units = manager.listUnits();
const active = units.filter((u) => u.activeState === 'active').length;

// Operation durations. A tool's own duration is its start-up plus its injected latency; measured
// durations would also hold the time spent queueing for the driver lock, which is not the
// operation's own. The start-up is taken from uncontended runs of the same stand-in tool.
const loaded = await loadUnits({ directories: [syn.unitsDir] });
const set = loaded.set!;
const latencyOf: Record<string, number> = { enableJailhouse: LATENCY.enable, createCell: LATENCY.create, loadCell: LATENCY.load, startCell: LATENCY.start, loadModule: LATENCY.module };
const own = (t: Timing) => (t.op === 'spawn' ? t.end - t.start : startup + (latencyOf[t.op] ?? 0));
const keyOf = (id: string): string => {
  const u = set.units.get(id)!;
  if (u.kind === 'Cell') return `cell:${u.name}`;
  if (u.kind === 'Driver') {
    const spec = (u as UnitOf<'Driver'>).spec;
    return `driver:${spec.module ?? spec.path!.split('/').pop()!.replace(/\.ko$/, '')}`;
  }
  if (u.kind === 'Hypervisor') return 'hypervisor:jailhouse';
  return `${u.kind.toLowerCase()}:${u.name}`;
};
const byKey = new Map<string, number>();
for (const t of timings) byKey.set(t.key, (byKey.get(t.key) ?? 0) + own(t));
const spawns = timings.filter((t) => t.op === 'spawn').map((t) => t.end - t.start);
const spawnMin = Math.min(...spawns);
const duration = (id: string) => (set.units.get(id)!.kind === 'Loader' ? spawnMin : (byKey.get(keyOf(id)) ?? 0));
const finish = new Map<string, number>();
for (const layer of set.layers) {
  for (const id of layer) finish.set(id, Math.max(0, ...orderPredecessors(set, id).map((p) => finish.get(p) ?? 0)) + duration(id));
}
const criticalPath = Math.max(...finish.values());
// The driver lock: every ioctl holds it for its latency, one at a time, and none can start before
// `jailhouse enable` could (after the jailhouse module, plus the enable tool's own start-up).
const lockedSum = timings.reduce((s, t) => s + (LOCKED[t.op] ?? 0), 0);
const lockBound = (finish.get('jailhouse.driver') ?? 0) + startup + lockedSum + spawnMin;
// Two cores cannot run more tool start-ups than their CPU time allows: the tools' own CPU time
// (reaped children of this process) over the cores is a bound as well.
const toolCpu = childCpuMs() - childCpuBefore;
const cores = availableParallelism();
const cpuBound = toolCpu / cores;
const bound = Math.max(criticalPath, lockBound);
const sequential = timings.reduce((s, t) => s + own(t), 0);


// ---- the bound from the logged operation times ----------------------------------------------------
interface LoggedOp {
  unit: string;
  /** Start-up: process start → lock request (locked) or the whole run (unlocked). */
  free: number;
  /** The section under the driver lock; 0 for tools that take no lock. */
  locked: number;
  start: number;
}
const log = await syn.machine.readLog();
const unitOfEntry = (e: SimLogEntry): string | undefined => {
  if (e.op === 'modprobe') return `${e.args[0]}.driver`;
  if (e.op === 'insmod') return `${e.args[0]!.split('/').pop()!.replace(/\.ko$/, '')}.driver`;
  if (e.op === 'jailhouse enable') return 'jailhouse.hypervisor';
  if (e.op === 'jailhouse cell create') return typeof e.detail?.cell === 'string' ? `${e.detail.cell}.cell` : undefined;
  if (e.op === 'jailhouse cell load' || e.op === 'jailhouse cell start') return `${e.args[2] === '--name' ? e.args[3] : e.args[2]}.cell`;
  return undefined;
};
const opsByUnit = new Map<string, LoggedOp[]>();
let untimed = 0;
for (const e of log) {
  const unit = unitOfEntry(e);
  if (!unit || e.result !== 'ok') continue;
  if (e.start === undefined || e.workStart === undefined || e.end === undefined) {
    untimed++;
    continue;
  }
  const locked = e.lockAcquired === undefined ? 0 : e.end - e.lockAcquired;
  const free = e.lockAcquired === undefined ? e.end - e.start : e.workStart - e.start;
  const list = opsByUnit.get(unit) ?? [];
  list.push({ unit, free, locked, start: e.start });
  opsByUnit.set(unit, list);
}
for (const list of opsByUnit.values()) list.sort((a, b) => a.start - b.start);
for (const id of set.units.keys()) {
  if (set.units.get(id)!.kind === 'Loader') opsByUnit.set(id, [{ unit: id, free: spawnMin, locked: 0, start: 0 }]);
}

/**
 * List schedule: a unit's operations run one after another, its first once every unit it is
 * ordered after has finished; start-ups overlap without limit; the lock goes to whichever ready
 * request came first (as the driver mutex does).
 */
function listSchedule(): { makespan: number; lockBusy: number } {
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
          advance(id, at + op.free);
          progressed = true;
        }
      }
    }
    // Every ready operation now needs the lock: grant it to the earliest request.
    let best: { id: string; request: number; op: LoggedOp } | undefined;
    for (const [id, at] of readyAt) {
      const op = opsByUnit.get(id)![next.get(id)!]!;
      const request = at + op.free;
      if (!best || request < best.request) best = { id, request, op };
    }
    if (!best) break;
    const begin = Math.max(best.request, lockFree);
    lockFree = begin + best.op.locked;
    lockBusy += best.op.locked;
    advance(best.id, lockFree);
  }
  return { makespan: Math.max(0, ...unitDone.values()), lockBusy };
}
const logged = listSchedule();

// The daemon's own time between operations: from an operation's end to the next operation of
// the same unit starting (its process start), and from the end of a unit's last predecessor to
// its first operation starting.
const withinGaps: number[] = [];
const dependencyGaps: number[] = [];
const toolOps = new Map<string, LoggedOp[]>();
for (const e of log) {
  const unit = unitOfEntry(e);
  if (!unit || e.result !== 'ok' || e.start === undefined || e.end === undefined) continue;
  const list = toolOps.get(unit) ?? [];
  list.push({ unit, free: e.end, locked: 0, start: e.start }); // free holds the end time here
  toolOps.set(unit, list);
}
for (const [id, ops] of toolOps) {
  ops.sort((a, b) => a.start - b.start);
  for (let i = 1; i < ops.length; i++) withinGaps.push(ops[i]!.start - ops[i - 1]!.free);
  const predEnds = orderPredecessors(set, id).map((p) => toolOps.get(p)?.at(-1)?.free).filter((x): x is number => x !== undefined);
  if (predEnds.length > 0) dependencyGaps.push(ops[0]!.start - Math.max(...predEnds));
}
const describeGaps = (g: number[]) => {
  const sorted = [...g].sort((a, b) => a - b);
  return `median ${(sorted[Math.floor(sorted.length / 2)] ?? NaN).toFixed(0)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms over ${g.length}`;
};

// Between the host boundary and the tool: host call → the tool's process start (spawn, the shell
// wrapper, exec node), the tool's end → the host call returning (exit, and the host's own checks),
// and within a cell job, one host call returning → the next one made (the engine's own time).
const hostCalls = timings.filter((t) => t.op === 'createCell' || t.op === 'loadCell' || t.op === 'startCell' || t.op === 'loadModule' || t.op === 'enableJailhouse');
const opName: Record<string, string> = { createCell: 'jailhouse cell create', loadCell: 'jailhouse cell load', startCell: 'jailhouse cell start', enableJailhouse: 'jailhouse enable' };
const spawnLags: number[] = [];
const exitLags: number[] = [];
const engineGaps: number[] = [];
const loggedFor = (t: Timing): SimLogEntry | undefined => {
  const unit = t.key.startsWith('cell:') ? `${t.key.slice(5)}.cell` : t.key.startsWith('driver:') ? `${t.key.slice(7)}.driver` : 'jailhouse.hypervisor';
  const start = performance.timeOrigin + t.start;
  const end = performance.timeOrigin + t.end;
  return log.find((e) => unitOfEntry(e) === unit && (opName[t.op] === undefined ? e.op === 'modprobe' || e.op === 'insmod' : e.op === opName[t.op]) && e.start! >= start - 1 && e.end! <= end + 1);
};
for (const t of hostCalls) {
  const e = loggedFor(t);
  if (!e) continue;
  spawnLags.push(e.start! - (performance.timeOrigin + t.start));
  exitLags.push(performance.timeOrigin + t.end - e.end!);
}
const cellCalls = new Map<string, Timing[]>();
for (const t of hostCalls) if (t.key.startsWith('cell:')) cellCalls.set(t.key, [...(cellCalls.get(t.key) ?? []), t]);
for (const calls of cellCalls.values()) {
  calls.sort((a, b) => a.start - b.start);
  for (let i = 1; i < calls.length; i++) engineGaps.push(calls[i]!.start - calls[i - 1]!.end);
}

// Where the real lock sat idle during the bring-up: between one holder's end and the next
// acquisition, with a request already waiting (hand-over) or with none (nothing was ready to ask).
const lockedEntries = log.filter((e) => e.lockAcquired !== undefined && e.end !== undefined && e.workStart !== undefined).sort((a, b) => a.lockAcquired! - b.lockAcquired!);
let handover = 0;
let nobodyAsked = 0;
// After `jailhouse enable`, the first cell command's own start-up leaves the lock idle in any
// schedule; the bound counts the shortest one logged, so the excess is the daemon's.
let firstAfterEnable = 0;
const shortestCreateStartup = Math.min(...lockedEntries.filter((e) => e.op === 'jailhouse cell create').map((e) => e.workStart! - e.start!));
for (let i = 1; i < lockedEntries.length; i++) {
  const prev = lockedEntries[i - 1]!;
  const cur = lockedEntries[i]!;
  const gap = Math.max(0, cur.lockAcquired! - prev.end!);
  const asked = Math.min(cur.lockAcquired!, Math.max(prev.end!, cur.workStart!));
  handover += cur.lockAcquired! - asked;
  nobodyAsked += gap - (cur.lockAcquired! - asked);
  if (prev.op === 'jailhouse enable') firstAfterEnable = gap;
}
const loggedSequential = [...opsByUnit.values()].flat().reduce((s, o) => s + o.free + o.locked, 0);
const meanStartup = (() => {
  const all = [...opsByUnit.entries()].filter(([id]) => set.units.get(id)?.kind !== 'Loader').flatMap(([, ops]) => ops);
  const startups = all.filter((o) => o.locked > 0).map((o) => o.free);
  return startups.reduce((s, x) => s + x, 0) / Math.max(1, startups.length);
})();

console.log(`units: ${units.length} (${active} active), operations: ${timings.length} (${log.length} logged by the machine${untimed ? `, ${untimed} without times` : ''})`);
console.log(`wall time:           ${wall.toFixed(0)} ms`);
console.log(`bound (logged):      ${logged.makespan.toFixed(0)} ms (list schedule of the logged costs: dependencies, locked sections one at a time; ${logged.lockBusy.toFixed(0)} ms under the lock)`);
console.log(`ratio wall/bound:    ${(wall / logged.makespan).toFixed(3)} (goal <= 1.10)`);
console.log(`lock idle:           ${(handover + nobodyAsked).toFixed(0)} ms between holders: ${handover.toFixed(0)} ms hand-over with a request waiting, ${nobodyAsked.toFixed(0)} ms with no request`);
console.log(`  after enable:      ${firstAfterEnable.toFixed(0)} ms until the first cell command held the lock (shortest create start-up logged: ${shortestCreateStartup.toFixed(0)} ms)`);
console.log(`daemon gaps:         next operation of the same unit ${describeGaps(withinGaps)}; after a dependency ${describeGaps(dependencyGaps)}`);
console.log(`  host boundary:     call → tool process start ${describeGaps(spawnLags)}; tool end → call returns ${describeGaps(exitLags)}; engine between a cell's calls ${describeGaps(engineGaps)}`);
console.log(`sequential sum:      ${sequential.toFixed(0)} ms (a shell script, one thing after another, uncontended tool start-up + latency)`);
console.log(`  logged-cost sum:   ${loggedSequential.toFixed(0)} ms (the same operations at their logged, contended cost)`);
console.log(`speed-up over the sequential script: ${(sequential / wall).toFixed(2)}x`);
console.log(`tool start-up:       ${startup.toFixed(0)} ms uncontended; ${meanStartup.toFixed(0)} ms mean of the jailhouse tools as logged during the bring-up`);
console.log(`old bound:           ${bound.toFixed(0)} ms = max(critical path ${criticalPath.toFixed(0)}, lock bound ${lockBound.toFixed(0)}), uncontended start-up; ratio ${(wall / bound).toFixed(3)}`);
console.log(`CPU bound:           ${cpuBound.toFixed(0)} ms (${toolCpu.toFixed(0)} ms of tool CPU on ${cores} cores)`);
console.log(`daemon CPU:          ${((selfCpu.user + selfCpu.system) / 1000).toFixed(0)} ms (the engine's own work during the bring-up)`);
manager.close();
for (const u of units) if (u.details.kind === 'Loader' && u.details.pid) process.kill(u.details.pid as number, 'SIGKILL');
if (process.env.CRTOS_BENCH_LOG) copyFileSync(join(syn.machine.dir, 'ops.log'), process.env.CRTOS_BENCH_LOG);
await disposeSynthetic(syn);
