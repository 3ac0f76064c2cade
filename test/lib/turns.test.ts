import { readFile } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nextTurn, runSteps, runStepsInTurns } from '../../src/lib/turns.js';

function* threeSteps(log: string[]): Generator<void, string, void> {
  for (const step of ['a', 'b', 'c']) {
    log.push(step);
    yield;
  }
  return 'done';
}

describe('steps', () => {
  it('runSteps runs every step before anything else on the loop', async () => {
    const log: string[] = [];
    const other = new Promise<void>((resolve) => setImmediate(() => (log.push('other'), resolve())));
    expect(runSteps(threeSteps(log))).toBe('done');
    await other;
    expect(log).toEqual(['a', 'b', 'c', 'other']);
  });

  it('runStepsInTurns lets the loop turn at a step boundary once the budget is used', async () => {
    const log: string[] = [];
    const other = new Promise<void>((resolve) => setImmediate(() => (log.push('other'), resolve())));
    // A clock that moves 2 ms a reading against a 3 ms budget: the loop turns after the second step.
    let t = 0;
    const result = await runStepsInTurns(threeSteps(log), 3, () => (t += 2));
    await other;
    expect(result).toBe('done');
    expect(log).toEqual(['a', 'b', 'other', 'c']);
  });

  it('runStepsInTurns within the budget does not wait for the loop between steps', async () => {
    const log: string[] = [];
    const other = new Promise<void>((resolve) => setImmediate(() => (log.push('other'), resolve())));
    expect(await runStepsInTurns(threeSteps(log), 3, () => 0)).toBe('done');
    await other;
    expect(log).toEqual(['a', 'b', 'c', 'other']);
  });

  it('runStepsInTurns hands the result on only after the loop turned', async () => {
    const log: string[] = [];
    setImmediate(() => log.push('other'));
    const result = await runStepsInTurns(threeSteps(log), 3, () => 0);
    log.push(result);
    expect(log).toEqual(['a', 'b', 'c', 'other', 'done']);
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

  it('called from an I/O callback, lets a due timer run first (one setImmediate would not: same iteration)', async () => {
    const order: string[] = [];
    await new Promise<void>((resolve, reject) => {
      readFile(fileURLToPath(import.meta.url), (err) => {
        if (err) return reject(err);
        // The poll phase: a timer set here and due (its 1 ms passed) runs in the next iteration's timers phase.
        setTimeout(() => order.push('timer'), 1);
        const due = performance.now() + 2;
        while (performance.now() < due);
        void nextTurn().then(() => {
          order.push('after the turn');
          resolve();
        });
      });
    });
    expect(order).toEqual(['timer', 'after the turn']);
  });
});
