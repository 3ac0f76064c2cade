import { describe, expect, it } from 'vitest';
import { runSteps, runStepsInTurns } from '../../src/lib/turns.js';

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

  it('runStepsInTurns within the budget does not wait for the loop', async () => {
    const log: string[] = [];
    const other = new Promise<void>((resolve) => setImmediate(() => (log.push('other'), resolve())));
    expect(await runStepsInTurns(threeSteps(log), 3, () => 0)).toBe('done');
    await other;
    expect(log).toEqual(['a', 'b', 'c', 'other']);
  });
});
