// Test-only preload for crtosd (node --expose-gc --import ./gc-probe.mjs dist/crtosd.mjs …), used by
// reloads.test.ts: SIGUSR2 collects garbage and prints one line with what the daemon holds, so a
// test compares memory and open file descriptors without guessing at V8's collection schedule.
import { readdirSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  const fds = readdirSync('/proc/self/fd').length;
  process.stderr.write(`GC-PROBE ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, newSpace, fds })}\n`);
});
