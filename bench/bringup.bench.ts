/**
 * bringup: 32 cells with drivers and loaders on the simulated machine with per-operation
 * latencies. Reports wall time ÷ the lower bound (goal ≤ 1.10) and the sequential sum a shell
 * script would take. Operation durations are measured at the host boundary (tool spawn to exit,
 * so they include the stand-in tools' own start-up); the bound is the longer of the dependency
 * critical path and the driver lock's serialization (every jailhouse ioctl holds it for its
 * injected latency).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createLinuxHost, type Host } from '../src/host/index.js';
import { loadUnits } from '../src/units/index.js';
import { Manager } from '../src/engine/manager.js';
import { memoryStateStore } from '../src/engine/state-file.js';
import { orderPredecessors } from '../src/engine/graph.js';
import { destroySimMachine } from '../src/sim/index.js';
import { createSynthetic } from './synthetic.js';

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
    createCell: wrap('createCell', host.createCell.bind(host), (_c, name) => `cell:${name}`),
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
  if (u.kind === 'Driver') return `driver:${u.spec.module ?? u.spec.path!.split('/').pop()!.replace(/\.ko$/, '')}`;
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

console.log(`units: ${units.length} (${active} active), operations: ${timings.length}`);
console.log(`tool start-up:       ${startup.toFixed(0)} ms (uncontended stand-in tool run)`);
console.log(`wall time:           ${wall.toFixed(0)} ms`);
console.log(`critical path:       ${criticalPath.toFixed(0)} ms (dependencies, tool start-up + latency per operation)`);
console.log(`driver-lock bound:   ${lockBound.toFixed(0)} ms (${lockedSum} ms of ioctls serialized)`);
console.log(`CPU bound:           ${cpuBound.toFixed(0)} ms (${toolCpu.toFixed(0)} ms of tool CPU on ${cores} cores)`);
console.log(`daemon CPU:          ${((selfCpu.user + selfCpu.system) / 1000).toFixed(0)} ms (the engine's own work during the bring-up)`);
console.log(`sequential sum:      ${sequential.toFixed(0)} ms (a shell script doing one thing after another)`);
console.log(`ratio wall/bound:    ${(wall / bound).toFixed(3)} (goal <= 1.10; bound = max(critical path, lock bound))`);
console.log(`ratio wall/max(bound, CPU bound): ${(wall / Math.max(bound, cpuBound)).toFixed(3)}`);
console.log(`speed-up over the sequential script: ${(sequential / wall).toFixed(2)}x`);
manager.close();
for (const u of units) if (u.details.kind === 'Loader' && u.details.pid) process.kill(u.details.pid, 'SIGKILL');
await destroySimMachine(syn.machine.dir);
