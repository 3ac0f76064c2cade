import { describe, expect, test } from 'vitest';
import { StartHistory, isCleanExit, shouldRestart } from '../../src/engine/supervision.js';

describe('start limit and back-off', () => {
  test('allows burst starts within the interval, then refuses until the window moves', () => {
    const h = new StartHistory();
    const limit = { burst: 3, interval: 1000 };
    expect([0, 10, 20].map((t) => h.tryStart(t, limit))).toEqual([true, true, true]);
    expect(h.tryStart(30, limit)).toBe(false);
    expect(h.allowed(999, limit)).toBe(false);
    expect(h.tryStart(1001, limit)).toBe(true);
  });

  test('the restart delay doubles up to the maximum and starts over after a quiet window', () => {
    const h = new StartHistory();
    expect([1, 2, 3, 4, 5].map(() => h.nextDelay(100, 500))).toEqual([100, 200, 400, 500, 500]);
    h.tryStart(0, { burst: 5, interval: 1000 });
    h.tryStart(5000, { burst: 5, interval: 1000 });
    expect(h.nextDelay(100, 500)).toBe(100);
  });

  test("systemd's Restart= table for the policies offered", () => {
    expect(shouldRestart('no', { code: 1, signal: null })).toBe(false);
    expect(shouldRestart('on-failure', { code: 0, signal: null })).toBe(false);
    expect(shouldRestart('on-failure', { code: 134, signal: null })).toBe(true);
    expect(shouldRestart('on-failure', { code: null, signal: 'SIGKILL' })).toBe(true);
    expect(shouldRestart('on-failure', { code: null, signal: 'SIGTERM' })).toBe(false);
    expect(shouldRestart('always', { code: 0, signal: null })).toBe(true);
    expect(isCleanExit({ code: null, signal: null })).toBe(false);
  });
});

