/**
 * idle: crtosd (the bundled daemon, as deployed) keeping 32 running cells with their drivers and
 * loaders for 60 s after the bring-up. Reports its CPU share (goal < 0.5 % of a core) and its RSS
 * (goal <= 80 MB) two ways, since they answer different questions: the peak of VmRSS sampled every
 * 250 ms during the idle window (what the idle daemon holds), and the kernel's lifetime
 * high-water mark VmHWM (which includes the bring-up burst). CRTOS_BENCH_IDLE_SECONDS shortens the
 * window. The daemon runs with the NODE_OPTIONS the packaged service sets
 * (packaging/systemd/crtosd.service); CRTOS_BENCH_NODE_OPTIONS replaces them ('' for none).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSynthetic, disposeSynthetic } from './synthetic.js';

const CELLS = Number(process.env.CRTOS_BENCH_CELLS ?? 32);
const SECONDS = Number(process.env.CRTOS_BENCH_IDLE_SECONDS ?? 60);
const TICKS = 100; // USER_HZ
const SERVICE_NODE_OPTIONS = /^Environment=NODE_OPTIONS=(.*)$/m.exec(readFileSync(join(process.cwd(), 'packaging/systemd/crtosd.service'), 'utf8'))?.[1] ?? '';
const NODE_OPTIONS = process.env.CRTOS_BENCH_NODE_OPTIONS ?? SERVICE_NODE_OPTIONS;

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}
function status(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const syn = await createSynthetic(CELLS);
const daemon = spawn(process.execPath, [join(process.cwd(), 'dist/crtosd.mjs'), '--units', syn.unitsDir, '--root', syn.machine.dir, '--state-dir', syn.stateDir, '--log-level', 'warn'], {
  env: { ...syn.machine.env, NODE_OPTIONS },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const pid = daemon.pid!;
const t0 = Date.now();
for (;;) {
  const state = await syn.machine.state();
  let loaders = 0;
  try {
    const units = (JSON.parse(readFileSync(join(syn.stateDir, 'state.json'), 'utf8')) as { units: Record<string, { kind: string; phase: string; facts: { pid?: number } }> }).units;
    loaders = Object.values(units).filter((u) => u.kind === 'Loader' && u.phase === 'active' && u.facts.pid).length;
  } catch {
    // not written yet
  }
  if (state.jailhouse.cells.filter((c) => c.state === 'running').length === CELLS && loaders === CELLS) break;
  if (Date.now() - t0 > 180_000) throw new Error('bring-up did not finish within 180 s');
  await new Promise((r) => setTimeout(r, 250));
}
await new Promise((r) => setTimeout(r, 2000)); // let the last pass and its observation settle
const before = cpuTicks(pid);
const start = Date.now();
let idlePeak = 0;
let idleSum = 0;
let samples = 0;
while (Date.now() - start < SECONDS * 1000) {
  const rss = status(pid, 'VmRSS');
  idlePeak = Math.max(idlePeak, rss);
  idleSum += rss;
  samples++;
  await new Promise((r) => setTimeout(r, 250));
}
const used = (cpuTicks(pid) - before) / TICKS;
const elapsed = (Date.now() - start) / 1000;
const share = (used / elapsed) * 100;
const peak = status(pid, 'VmHWM');
const rss = status(pid, 'VmRSS');
console.log(`cells running:  ${CELLS} (bring-up took ${((start - t0) / 1000).toFixed(1)} s)`);
console.log(`idle window:    ${elapsed.toFixed(1)} s, daemon CPU ${(used * 1000).toFixed(0)} ms`);
console.log(`CPU share:      ${share.toFixed(3)} % of a core (goal < 0.5 %; ratio ${(share / 0.5).toFixed(2)})`);
console.log(`idle RSS peak:  ${idlePeak.toFixed(1)} MB sampled VmRSS over the idle window (mean ${(idleSum / samples).toFixed(1)} MB, now ${rss.toFixed(1)} MB; goal <= 80 MB; ratio ${(idlePeak / 80).toFixed(2)})`);
console.log(`lifetime HWM:   ${peak.toFixed(1)} MB VmHWM, bring-up included (goal <= 80 MB; ratio ${(peak / 80).toFixed(2)})`);
console.log(`NODE_OPTIONS:   ${NODE_OPTIONS || '(none)'}${NODE_OPTIONS === SERVICE_NODE_OPTIONS ? ' (as the packaged service)' : ''}`);
daemon.kill('SIGTERM');
await new Promise((r) => daemon.once('exit', r));
const units = (JSON.parse(readFileSync(join(syn.stateDir, 'state.json'), 'utf8')) as { units: Record<string, { facts: { pid?: number } }> }).units;
for (const u of Object.values(units)) if (u.facts.pid) {
  try {
    process.kill(u.facts.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
await disposeSynthetic(syn);
