/**
 * Exit counters that move with time. The real driver computes them when they are read; the
 * simulator has to write them, so it does that where it costs no operation anything: the inmate
 * host rewrites the running cells' (src/sim/inmates/host.ts), the machine's tool server the root
 * cell's, once a STATISTICS_REFRESH_MS period, and only the files whose figure moved. A change of the machine
 * (commitState) renders every cell's counters at its start and so never rewrites them: with a
 * counter file per CPU, rewriting the root cell's at each change cost a create, load or start
 * hundreds of file writes under the driver lock, more than the real ioctl's whole cost.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { SimState } from './state.js';
import type { MachineDescription } from './description.js';
import { modeOf, rootCell, statisticsFiles, type RenderedTree } from './render.js';
import { STATISTICS_REFRESH_MS } from './statistics.js';
import { paths, readDescription, writeAtomicAsync } from './store.js';

/**
 * Returns a writer of counter files under the machine directory `dir` that remembers what it
 * wrote and writes only what differs; a call while the previous one still writes is skipped (the
 * next period brings the figures up to date).
 */
export function counterWriter(dir: string): (files: RenderedTree) => Promise<void> {
  const written = new Map<string, string>();
  let busy = false;
  return async (files) => {
    if (busy) return;
    busy = true;
    try {
      for (const [rel, content] of Object.entries(files)) {
        if (content === null || written.get(rel) === content) continue;
        try {
          await writeAtomicAsync(join(dir, rel), content, modeOf(rel));
          written.set(rel, content);
        } catch {
          // The directory went (a destroy, a CPU given to a cell, a disable): nothing to count there.
        }
      }
    } finally {
      busy = false;
    }
  };
}

/**
 * The root cell's counters while the tool server runs: Linux's CPUs count exits from the enable
 * on. A frozen root side counts nothing (its CPUs wait in the hypervisor). Returns a stop function.
 */
export function startRootCounters(dir: string): () => void {
  const write = counterWriter(dir);
  let description: MachineDescription | undefined;
  const tick = async () => {
    let state: SimState;
    try {
      description ??= readDescription(dir);
      state = JSON.parse(await readFile(paths.state(dir), 'utf8')) as SimState;
    } catch {
      return; // The machine went, or its state is being replaced.
    }
    const jh = state.jailhouse;
    if (!jh.enabled || jh.frozen || jh.enabledAt === undefined) return;
    await write(statisticsFiles(rootCell(state), description, Date.now()));
  };
  const timer = setInterval(() => void tick(), STATISTICS_REFRESH_MS);
  return () => clearInterval(timer);
}
