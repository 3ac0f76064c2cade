import { describe, expect, test } from 'vitest';
import { formatTimespan } from '../../../src/cli/analyze/timespan.js';

describe('formatTimespan (systemd-analyze style)', () => {
  test.each([
    [0, '0'],
    [890, '890us'],
    [567_000, '567ms'],
    [567_890, '567ms'],
    [1_234_567, '1.234s'],
    [2_000_000, '2s'],
    [61_500_000, '1min 1.500s'],
    [3_600_000_000 + 120_000_000, '1h 2min'],
  ])('%d µs → %s', (usec, text) => {
    expect(formatTimespan(usec)).toBe(text);
  });

  test('a finer accuracy shows more decimals', () => {
    expect(formatTimespan(1_234_567, 1)).toBe('1.234567s');
    expect(formatTimespan(1500, 1)).toBe('1.500ms');
  });
});
