import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compactAfterBursts, fullCollection } from '../../src/daemon/compact.js';
import type { JobInfo } from '../../src/engine/manager-api.js';

const job = (id: number): JobInfo => ({ id, unit: `u${id}.cell`, type: 'start', state: 'running' });

afterEach(() => {
  vi.useRealTimers();
});

function bursts() {
  vi.useFakeTimers();
  const jobs = new EventEmitter();
  const collect = vi.fn();
  const stop = compactAfterBursts(jobs, { collect });
  return { jobs, collect, stop };
}

describe('compactAfterBursts', () => {
  it('collects twice, a second apart, once the last job of a burst has been gone 5 s', () => {
    const { jobs, collect } = bursts();
    jobs.emit('jobNew', job(1));
    jobs.emit('jobNew', job(2));
    jobs.emit('jobRemoved', job(1));
    vi.advanceTimersByTime(10_000);
    expect(collect).not.toHaveBeenCalled(); // job 2 still runs
    jobs.emit('jobRemoved', job(2));
    vi.advanceTimersByTime(4999);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(collect).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(60_000);
    expect(collect).toHaveBeenCalledTimes(2); // an idle daemon is left alone
  });

  it('waits again when a job comes before the quiet time is over, and after each later burst', () => {
    const { jobs, collect } = bursts();
    jobs.emit('jobNew', job(1));
    jobs.emit('jobRemoved', job(1));
    vi.advanceTimersByTime(3000);
    jobs.emit('jobNew', job(2));
    jobs.emit('jobRemoved', job(2));
    vi.advanceTimersByTime(4999);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1001);
    expect(collect).toHaveBeenCalledTimes(2);
    jobs.emit('jobNew', job(3));
    jobs.emit('jobRemoved', job(3));
    vi.advanceTimersByTime(6000);
    expect(collect).toHaveBeenCalledTimes(4);
  });

  it('does nothing once stopped', () => {
    const { jobs, collect, stop } = bursts();
    jobs.emit('jobNew', job(1));
    jobs.emit('jobRemoved', job(1));
    stop();
    vi.advanceTimersByTime(10_000);
    expect(collect).not.toHaveBeenCalled();
  });
});

describe('fullCollection', () => {
  it("frees what nothing refers to any more (V8's own gc, exposed to this module only)", async () => {
    const collect = fullCollection();
    const ref = new WeakRef({ big: new Array(100_000).fill(1) });
    // A WeakRef holds its target to the end of the turn that made it.
    await new Promise((resolve) => setImmediate(resolve));
    collect();
    expect(ref.deref()).toBeUndefined();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
