/**
 * Waiting for an event with a deadline, instead of sleeping: `check` is run at once and again on
 * every wake-up from its sources (a file changing, a stream's data, a poll tick for what nothing
 * announces, such as /proc); the wait resolves with the first value `check` returns that is not
 * undefined, and rejects at the deadline, or with whatever `check` throws (a process that died
 * before the event, say).
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Readable } from 'node:stream';

/** Subscribes `wake` to something that happens; returns the unsubscribe. */
export type WakeSource = (wake: () => void) => () => void;

/** Wakes on every change of a file or directory (inotify). */
export function changesOf(path: string): WakeSource {
  return (wake) => {
    let w: FSWatcher | undefined;
    try {
      w = watch(path, { persistent: false }, wake);
      w.on('error', () => undefined);
    } catch {
      // Not there (yet): the other sources still wake the check.
    }
    return () => w?.close();
  };
}

/** Wakes on every chunk a stream emits. */
export function dataOf(stream: Readable | null | undefined): WakeSource {
  return (wake) => {
    stream?.on('data', wake);
    return () => void stream?.off('data', wake);
  };
}

/** Wakes every `ms`, for states no event announces. */
export function every(ms: number): WakeSource {
  return (wake) => {
    const t = setInterval(wake, ms);
    return () => clearInterval(t);
  };
}

export function waitFor<T>(what: string, check: () => T | undefined, opts: { sources: WakeSource[]; timeoutMs: number }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const unsubscribe: (() => void)[] = [];
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const u of unsubscribe) u();
      fn();
    };
    const run = () => {
      if (done) return;
      try {
        const value = check();
        if (value !== undefined) finish(() => resolve(value));
      } catch (e) {
        finish(() => reject(e instanceof Error ? e : new Error(String(e))));
      }
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}`))), opts.timeoutMs);
    for (const source of opts.sources) unsubscribe.push(source(run));
    run();
  });
}
