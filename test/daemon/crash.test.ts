/**
 * crtosd killed with SIGKILL at random moments of a bring-up, then started again: it always
 * converges, and a cell or loader already running with the same description is never restarted.
 */
import { afterEach, expect, test } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { makeFixture, type Fixture } from '../engine/harness.js';
import { startDaemon, until } from './run.js';

let fixture: Fixture | undefined;
afterEach(async () => {
  for (const pid of loaderPids(fixture)) process.kill(pid, 'SIGKILL');
  await fixture?.cleanup();
  fixture = undefined;
});

/** Live stand-in loader processes of this machine (found through /proc, as ps would). */
function loaderPids(f: Fixture | undefined): number[] {
  if (!f) return [];
  const mark = `CRTOS_SIM_DIR=${f.machine.dir}\0`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmd.includes('loader\0/opt/crtos/apps/hello')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(mark)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('SIGKILL at 20 random moments of a bring-up: converges, nothing already running is restarted', async () => {
  const f = (fixture = await makeFixture());
  const seed = Number(process.env.CRTOS_CRASH_SEED ?? Date.now() % 100_000);
  const random = lcg(seed);
  const kills: number[] = [];
  for (let i = 0; i < 20; i++) {
    const d = startDaemon(f);
    const delay = 250 + Math.floor(random() * 2500);
    kills.push(delay);
    await new Promise((r) => setTimeout(r, delay));
    d.child.kill('SIGKILL');
    await d.exited;
  }
  const final = startDaemon(f);
  const converged = async () => {
    const state = await f.machine.state();
    return state.jailhouse.cells.some((c) => c.name === 'nuttx' && c.state === 'running') && loaderPids(f).length >= 1 && final.output().includes('"msg":"crtosd');
  };
  await until(converged, 30_000, `convergence (seed ${seed}, kills ${kills.join(',')})`).catch(async (e: unknown) => {
    const state = await f.machine.state();
    throw new Error(`${String(e)}\n${final.output()}\n${JSON.stringify(state.jailhouse)}\n${(await f.ops()).join('\n')}`);
  });
  await new Promise((r) => setTimeout(r, 500));
  final.child.kill('SIGTERM');
  expect(await final.exited).toBe(0);

  const log = await f.machine.readLog();
  const context = `seed ${seed}, kills at ${kills.join(', ')} ms\n${log.map((e) => `${e.op} ${e.args.join(' ')} ${e.result}`).join('\n')}`;
  // Once the cell ran, it was never shut down, re-loaded, destroyed or created again.
  const firstStart = log.findIndex((e) => e.op === 'jailhouse cell start' && e.result === 'ok');
  expect(firstStart, context).toBeGreaterThanOrEqual(0);
  const touchedAfter = log.slice(firstStart + 1).filter((e) => /^jailhouse (cell (shutdown|destroy|create|load|start)|disable|enable)$/.test(e.op) && e.result === 'ok');
  expect(touchedAfter.map((e) => e.op), context).toEqual([]);
  // One loader, started once.
  expect(loaderPids(f).length, context).toBe(1);
  expect(log.filter((e) => e.op === 'chrt').length, context).toBe(1);
  // Everything else converged too.
  const state = await f.machine.state();
  expect(state.modules.map((m) => m.name).sort(), context).toEqual(['ivshmem_net', 'jailhouse', 'shadow']);
}, 120_000);
