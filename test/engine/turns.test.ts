import { describe, expect, it } from 'vitest';
import { inTurns, TurnGate } from '../../src/engine/turns.js';

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

describe('TurnGate', () => {
  it('lets callers through at once while the turn has budget left', async () => {
    const clock = 0;
    const gate = new TurnGate(3, () => clock);
    const through: number[] = [];
    await Promise.all([1, 2, 3].map((i) => gate.turn().then(() => through.push(i))));
    expect(through).toEqual([1, 2, 3]);
  });

  it('lets callers past the budget through one per later turn, in order', async () => {
    let clock = 0;
    const gate = new TurnGate(3, () => clock);
    const log: string[] = [];
    await gate.turn();
    clock += 5; // the first caller's work used up this turn's budget
    const waits = [1, 2, 3].map((i) => gate.turn().then(() => log.push(`caller ${i}`)));
    let turns = 0;
    const counting = (async () => {
      // Until every caller is through (log.length would count the turns too, and stop early).
      while (log.filter((l) => l.startsWith('caller')).length < 3) {
        await new Promise((r) => setImmediate(r));
        log.push(`turn ${++turns}`);
      }
    })();
    await Promise.all([...waits, counting]);
    // Never two callers without a turn of the loop between them.
    const callers = log.map((l, i) => (l.startsWith('caller') ? i : -1)).filter((i) => i >= 0);
    expect(log.filter((l) => l.startsWith('caller'))).toEqual(['caller 1', 'caller 2', 'caller 3']);
    for (let k = 1; k < callers.length; k++) expect(log.slice(callers[k - 1]!, callers[k]).some((l) => l.startsWith('turn'))).toBe(true);
  });
});
