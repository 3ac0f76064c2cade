/**
 * react: a unit file edited → the change applied, through the real daemon wiring (chokidar watch,
 * debounce, load, plan, apply). 50 edits of each kind; p50 and p99 (goal p50 <= 200 ms).
 * - description edits: nothing to do on the machine, so this is the daemon's own reaction time;
 * - loader edits: the loader is restarted (stop, then a new process through chrt).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { runDaemon } from '../src/daemon/daemon.js';
import type { JobInfo, JobResult, UnitStatus } from '../src/engine/manager-api.js';
import { createExample, percentile, disposeSynthetic } from './synthetic.js';

const EDITS = Number(process.env.CRTOS_BENCH_EDITS ?? 50);
const ex = await createExample();
const daemon = await runDaemon(
  { units: [ex.unitsDir], root: ex.machine.dir, stateDir: ex.stateDir, logLevel: 'silent', once: false, stopOnExit: false, pollIntervalMs: 1000, watchDebounceMs: 100, help: false },
  pino({ level: process.env.CRTOS_BENCH_LOG ?? 'silent' }, process.stderr),
  ex.machine.env,
);
const m = daemon.manager;
const file = join(ex.unitsDir, 'hello.yaml');
const original = readFileSync(file, 'utf8');

async function measure(edit: (i: number) => string, applied: (i: number, resolve: () => void) => () => void): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const off = applied(i, () => {
        off();
        resolve();
      });
      writeFileSync(file, edit(i));
    });
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 150));
  }
  return times.sort((a, b) => a - b);
}

const describeTimes = await measure(
  (i) => original.replace('description: hello on NuttX', `description: hello on NuttX ${i}`),
  (i, done) => {
    const listener = (s: UnitStatus) => {
      if (s.id === 'hello.loader' && s.description.includes(`NuttX ${i},`)) done();
    };
    m.on('unitChanged', listener);
    return () => m.off('unitChanged', listener);
  },
);
const restartTimes = await measure(
  (i) => original.replace('SHADOWPROC: /dev/shadow-process0', `SHADOWPROC: /dev/shadow-process0, EDIT: "${i}"`),
  (_i, done) => {
    const listener = (job: JobInfo, result: JobResult) => {
      if (job.unit === 'hello.loader' && job.type === 'start' && result === 'done') done();
    };
    m.on('jobRemoved', listener);
    return () => m.off('jobRemoved', listener);
  },
);
const fmt = (t: number[]) => `p50 ${percentile(t, 50).toFixed(0)} ms, p99 ${percentile(t, 99).toFixed(0)} ms, max ${t[t.length - 1]!.toFixed(0)} ms`;
console.log(`edits per series:       ${EDITS} (watch debounce 100 ms included)`);
console.log(`description edit → applied: ${fmt(describeTimes)}`);
console.log(`loader edit → restarted:    ${fmt(restartTimes)}`);
console.log(`ratio p50/goal (description edit): ${(percentile(describeTimes, 50) / 200).toFixed(2)} (goal <= 1.00)`);
console.log(`ratio p50/goal (loader edit):      ${(percentile(restartTimes, 50) / 200).toFixed(2)}`);
m.close();
for (const u of m.listUnits()) if (u.details.kind === 'Loader' && u.details.pid) process.kill(u.details.pid as number, 'SIGKILL');
await disposeSynthetic(ex);
process.exit(0);
