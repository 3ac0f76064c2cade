/**
 * Waiting for an event with a deadline, instead of sleeping or waiting for a quiet period.
 *
 * `check` runs at once and again on every wake-up from its sources (a file or directory
 * changing, a stream's data, an emitter's event, a process exiting); `every(ms)` is the source
 * for states nothing announces (/proc, whether a FIFO has a reader). The wait resolves with the
 * first value `check` returns other than undefined or false, and rejects at the deadline with a
 * message naming what it waited for (and `detail()`, say a daemon's output), or with whatever
 * `check` throws (a process that died before the event). An asynchronous check never overlaps
 * itself: a wake-up during a run makes one more run after it.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';

/** Subscribes `wake` to something that happens; returns the unsubscribe. */
export type WakeSource = (wake: () => void) => () => void;

/**
 * Wakes on every change of a file or directory (inotify; a directory's watch sees its entries
 * created, renamed, removed and written). A path not there yet is watched through its directory
 * until it appears, then itself.
 */
export function changesOf(path: string): WakeSource {
  return (wake) => {
    let own: FSWatcher | undefined;
    let parent: FSWatcher | undefined;
    const attach = (): void => {
      own ??= watchOf(path, wake);
      if (own && parent) {
        parent.close();
        parent = undefined;
      }
    };
    attach();
    if (!own) {
      parent = watchOf(dirname(path), () => {
        attach();
        wake();
      });
    }
    return () => {
      own?.close();
      parent?.close();
    };
  };
}

function watchOf(path: string, listener: () => void): FSWatcher | undefined {
  try {
    const w = watch(path, { persistent: false }, listener);
    w.on('error', () => undefined);
    return w;
  } catch {
    return undefined;
  }
}

/** Wakes on every chunk a stream emits. */
export function dataOf(stream: Readable | null | undefined): WakeSource {
  return (wake) => {
    stream?.on('data', wake);
    return () => void stream?.off('data', wake);
  };
}

interface Emitter {
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/** Wakes on each of the named events of an emitter (a child process's 'exit', a manager's 'jobNew'). */
export function eventsOf(emitter: Emitter, ...events: string[]): WakeSource {
  return (wake) => {
    for (const e of events) emitter.on(e, wake);
    return () => {
      for (const e of events) emitter.off(e, wake);
    };
  };
}

/** Wakes every `ms`, for states no event announces. */
export function every(ms: number): WakeSource {
  return (wake) => {
    const t = setInterval(wake, ms);
    return () => clearInterval(t);
  };
}

export interface WaitOptions {
  /** What wakes the check; it also runs once at the start. */
  sources: WakeSource[];
  timeoutMs: number;
  /** Added to the timeout message (evaluated then): the output or state that explains it. */
  detail?: () => string;
}

type Pending = undefined | false;

/** Resolves with the first value of `check` other than undefined or false; see the module comment. */
export function waitFor<T>(what: string, check: () => T | Pending | Promise<T | Pending>, opts: WaitOptions): Promise<Exclude<T, Pending>> {
  return new Promise((resolve, reject) => {
    const unsubscribe: (() => void)[] = [];
    let done = false;
    let running = false;
    let again = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const u of unsubscribe) u();
      fn();
    };
    const fail = (e: unknown): void => finish(() => reject(e instanceof Error ? e : new Error(String(e))));
    const settle = (value: T | Pending): void => {
      if (value !== undefined && value !== false) finish(() => resolve(value as Exclude<T, Pending>));
    };
    const run = (): void => {
      if (done) return;
      if (running) {
        again = true;
        return;
      }
      let result: T | Pending | Promise<T | Pending>;
      try {
        result = check();
      } catch (e) {
        fail(e);
        return;
      }
      if (!(result instanceof Promise)) {
        settle(result);
        return;
      }
      running = true;
      result.then(
        (value) => {
          running = false;
          settle(value);
          if (again) {
            again = false;
            run();
          }
        },
        (e: unknown) => {
          running = false;
          fail(e);
        },
      );
    };
    const timer = setTimeout(() => {
      const detail = opts.detail?.();
      fail(new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${detail ? `\n${detail}` : ''}`));
    }, opts.timeoutMs);
    for (const source of opts.sources) unsubscribe.push(source(run));
    run();
  });
}

/** waitFor for a condition that holds or not. */
export async function until(what: string, check: () => boolean | Promise<boolean>, opts: WaitOptions): Promise<void> {
  await waitFor(what, check, opts);
}

/** A promise's outcome, with a deadline: for an event already in hand as a promise. */
export async function settled<T>(what: string, promise: Promise<T>, opts: Omit<WaitOptions, 'sources'>): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  const source: WakeSource = (wake) => {
    promise.then(
      (value) => ((outcome = { value }), wake()),
      (error: unknown) => ((outcome = { error }), wake()),
    );
    return () => undefined;
  };
  const done = await waitFor(what, () => {
    if (outcome && 'error' in outcome) throw outcome.error;
    return outcome;
  }, { ...opts, sources: [source] });
  return done.value;
}
