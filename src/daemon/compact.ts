/**
 * The heap given back after a burst of jobs. A bring-up or a reload allocates several MB that are
 * garbage once its jobs are done (descriptions, tool outputs, plans, D-Bus messages); V8 returns
 * that memory to the system only when its memory reducer gets round to it, which on an idle daemon
 * took a minute or more (bench/idle: old space 16.5 → 11.7 MB after some 400 s). On a small
 * machine the Linux side shares, crtosd gives it back itself: once the last job of a burst has been
 * gone for a few seconds, two full collections a second apart (the second compacts what the first
 * freed, as the memory reducer also runs several). Each is a few ms at a time nothing waits on.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ManagerEvents } from '../engine/manager-api.js';

export interface JobEvents {
  on<E extends 'jobNew' | 'jobRemoved'>(event: E, listener: (...args: ManagerEvents[E]) => void): unknown;
}

export interface CompactOptions {
  /** How long no job may run before the heap is compacted. */
  quietMs?: number;
  /** Between the two collections. */
  spacingMs?: number;
  /** One full collection (tests count calls). */
  collect?: () => void;
}

/** V8's full collection, exposed to crtosd alone (the flag is set at run time; nothing else sees `gc`). */
export function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => gc();
}

/** Compacts the heap after each burst of jobs; returns a function that stops it. */
export function compactAfterBursts(jobs: JobEvents, opts: CompactOptions = {}): () => void {
  const quietMs = opts.quietMs ?? 5000;
  const spacingMs = opts.spacingMs ?? 1000;
  const collect = opts.collect ?? fullCollection();
  const running = new Set<number>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const cancel = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const later = (ms: number, fn: () => void) => {
    timer = setTimeout(fn, ms);
    timer.unref();
  };
  jobs.on('jobNew', (job) => {
    running.add(job.id);
    cancel();
  });
  jobs.on('jobRemoved', (job) => {
    running.delete(job.id);
    if (running.size > 0 || stopped) return;
    cancel();
    later(quietMs, () => {
      collect();
      later(spacingMs, () => {
        timer = undefined;
        collect();
      });
    });
  });
  return () => {
    stopped = true;
    cancel();
  };
}
