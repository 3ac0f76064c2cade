/**
 * idle: crtosd (the bundled daemon, as deployed) keeping 32 running cells with their drivers and
 * loaders for 60 s after the bring-up. Reports its CPU share (goal < 0.5 % of a core) and its RSS
 * (goal <= 80 MB) two ways, since they answer different questions: the peak of VmRSS sampled every
 * 250 ms during the idle window (what the idle daemon holds), and the kernel's lifetime
 * high-water mark VmHWM (which includes the bring-up burst). CRTOS_BENCH_IDLE_SECONDS shortens the
 * window. The daemon runs with the NODE_OPTIONS the packaged service sets
 * (packaging/systemd/crtosd.service); CRTOS_BENCH_NODE_OPTIONS replaces them ('' for none). The V8
 * settings crtosd makes itself however it is started (src/daemon/heap.ts) are printed beside them.
 * Beside it, the RSS of a bare Node.js process (`node -e`, without NODE_OPTIONS: what Node.js
 * itself needs, kept alive until read); both without NODE_EXTRA_CA_CERTS, as the service runs: the idle daemon's mean RSS over the window ÷ that is the
 * memory goal (≤ 1.4).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { compilerTierChosen, FIXED_YOUNG_GENERATION_FLAG, TOP_TIER_FLAG, youngGenerationSized } from '../src/daemon/heap.js';
import { createSynthetic, cpuSeconds, disposeSynthetic, SERVICE_NODE_OPTIONS, startDaemon, statusMb as status, stopDaemon, untilBroughtUp } from './synthetic.js';

// The service's environment, not this shell's: systemd starts crtosd with none of it, and
// NODE_EXTRA_CA_CERTS (set on some development machines) makes every Node.js process parse a CA
// bundle at start, 1.9 MB of RSS that bare node and crtosd then both hold, which flatters the ratio.
delete process.env.NODE_EXTRA_CA_CERTS;

const CELLS = Number(process.env.CRTOS_BENCH_CELLS ?? 32);
const SECONDS = Number(process.env.CRTOS_BENCH_IDLE_SECONDS ?? 60);
const NODE_OPTIONS = process.env.CRTOS_BENCH_NODE_OPTIONS ?? SERVICE_NODE_OPTIONS;

/** VmRSS of `node -e` doing nothing, without NODE_OPTIONS, read once it said it runs. */
async function bareNodeRssMb(): Promise<number> {
  const { NODE_OPTIONS: _none, ...env } = process.env;
  const child = spawn(process.execPath, ['-e', "process.stdout.write('up\\n'); setInterval(() => {}, 1 << 30)"], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  const rss = status(child.pid!, 'VmRSS');
  child.kill('SIGKILL');
  await once(child, 'exit');
  return rss;
}

const syn = await createSynthetic(CELLS);
const daemon = startDaemon(syn, NODE_OPTIONS);
// A bring-up that fails (it throws) must not leave the daemon, its loaders and the machine running.
try {
  const pid = daemon.pid!;
  const t0 = Date.now();
  await untilBroughtUp(syn);
  await new Promise((r) => setTimeout(r, 2000)); // let the last pass and its observation settle
  const before = cpuSeconds(pid);
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
  const used = cpuSeconds(pid) - before;
  const elapsed = (Date.now() - start) / 1000;
  const share = (used / elapsed) * 100;
  const peak = status(pid, 'VmHWM');
  const rss = status(pid, 'VmRSS');
  console.log(`cells running:  ${CELLS} (bring-up took ${((start - t0) / 1000).toFixed(1)} s)`);
  console.log(`idle window:    ${elapsed.toFixed(1)} s, daemon CPU ${(used * 1000).toFixed(0)} ms`);
  console.log(`CPU share:      ${share.toFixed(3)} % of a core (goal < 0.5 %; ratio ${(share / 0.5).toFixed(2)})`);
  console.log(`idle RSS peak:  ${idlePeak.toFixed(1)} MB sampled VmRSS over the idle window (mean ${(idleSum / samples).toFixed(1)} MB, now ${rss.toFixed(1)} MB; goal <= 80 MB; ratio ${(idlePeak / 80).toFixed(2)})`);
  const bare = await bareNodeRssMb();
  // Judged on the window's mean: the peak is the window's first seconds, before crtosd gives the
  // bring-up's memory back (src/daemon/compact.ts, 5 s after the last job); the mean counts them too.
  const meanRatio = idleSum / samples / bare;
  console.log(
    `vs bare node:   node -e holds ${bare.toFixed(1)} MB VmRSS; idle daemon ÷ that ${meanRatio.toFixed(2)} mean over the window (goal <= 1.4: ${meanRatio <= 1.4 ? 'met' : 'NOT met'}), ${(rss / bare).toFixed(2)} now, ${(idlePeak / bare).toFixed(2)} at its peak`,
  );
  console.log(`lifetime HWM:   ${peak.toFixed(1)} MB VmHWM, bring-up included (goal <= 80 MB; ratio ${(peak / 80).toFixed(2)})`);
  console.log(`NODE_OPTIONS:   ${NODE_OPTIONS || '(none)'}${NODE_OPTIONS === SERVICE_NODE_OPTIONS ? ' (as the packaged service)' : ''}`);
  const own = [...(youngGenerationSized([], NODE_OPTIONS) ? [] : [FIXED_YOUNG_GENERATION_FLAG]), ...(compilerTierChosen([], NODE_OPTIONS) ? [] : [TOP_TIER_FLAG])];
  console.log(`V8 flags:       ${own.join(' ') || '(none)'} set by crtosd itself (src/daemon/heap.ts)`);
} finally {
  await stopDaemon(daemon, syn);
  await disposeSynthetic(syn);
}
