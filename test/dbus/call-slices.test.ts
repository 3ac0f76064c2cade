import { describe, expect, it } from 'vitest';
import { nextTurn } from '../../src/lib/turns.js';
import { CallSlices } from '../../src/dbus/call-slices.js';

/** Resolves after the event loop has turned `n` times (nextTurn: through its timers and poll each time). */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await nextTurn();
};

describe('CallSlices', () => {
  it('handles the calls in the order they came, none of them synchronously within push', async () => {
    const slices = new CallSlices();
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) slices.push(() => seen.push(i));
    expect(seen).toEqual([]);
    await turns(1);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('lets the event loop turn once a slice has used its budget, and goes on after', async () => {
    let clock = 0;
    // Every call "takes" 2 ms by this clock: a 3 ms budget holds two calls.
    const slices = new CallSlices(3, () => clock);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++)
      slices.push(() => {
        clock += 2;
        seen.push(i);
      });
    await turns(1);
    expect(seen).toEqual([0, 1]);
    expect(slices.pending).toBe(3);
    await turns(1);
    expect(seen).toEqual([0, 1, 2, 3]);
    await turns(1);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(slices.pending).toBe(0);
  });

  it('handles a call that comes after a burst was drained', async () => {
    const slices = new CallSlices();
    const seen: string[] = [];
    slices.push(() => seen.push('a'));
    await turns(1);
    slices.push(() => seen.push('b'));
    await turns(1);
    expect(seen).toEqual(['a', 'b']);
  });

  it('goes on with the next calls when one throws', async () => {
    const slices = new CallSlices();
    const seen: string[] = [];
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.once('uncaughtException', onError);
    slices.push(() => {
      throw new Error('boom');
    });
    slices.push(() => seen.push('after'));
    await turns(3);
    process.off('uncaughtException', onError);
    expect(errors).toHaveLength(1);
    expect(seen).toEqual(['after']);
  });

  it('drops what is queued when stopped, and takes nothing more', async () => {
    const slices = new CallSlices();
    const seen: string[] = [];
    slices.push(() => seen.push('queued'));
    slices.stop();
    slices.push(() => seen.push('late'));
    await turns(2);
    expect(seen).toEqual([]);
  });
});
