import { describe, expect, it } from 'vitest';
import { inTurns, nextTurn } from '../../src/engine/turns.js';

describe('inTurns', () => {
  it('takes the items one after another, in order', async () => {
    const seen: string[] = [];
    await inTurns(['a', 'b', 'c'], async (x) => {
      seen.push(`${x} begins`);
      await Promise.resolve();
      seen.push(`${x} ends`);
    });
    expect(seen).toEqual(['a begins', 'a ends', 'b begins', 'b ends', 'c begins', 'c ends']);
  });

  it('lets the event loop turn once an item used up the budget, and not before', async () => {
    let clock = 0;
    const log: string[] = [];
    // Each item "takes" 2 ms by this clock; with a 3 ms budget the loop turns after every second one.
    let turned = false;
    const watch = () => setImmediate(() => ((turned = true), undefined));
    watch();
    await inTurns(
      [1, 2, 3, 4],
      (i) => {
        log.push(`${i}${turned ? ' after a turn' : ''}`);
        if (turned) {
          turned = false;
          watch();
        }
        clock += 2;
      },
      3,
      () => clock,
    );
    expect(log).toEqual(['1', '2', '3 after a turn', '4']);
  });

  it('stops at the first item that fails', async () => {
    const seen: number[] = [];
    await expect(
      inTurns([1, 2, 3], (i) => {
        if (i === 2) throw new Error('two');
        seen.push(i);
      }),
    ).rejects.toThrow('two');
    expect(seen).toEqual([1]);
  });
});

describe('nextTurn', () => {
  it('resolves after callbacks already queued for the check phase', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('queued before'));
    await nextTurn();
    order.push('after the turn');
    expect(order).toEqual(['queued before', 'after the turn']);
  });
});
