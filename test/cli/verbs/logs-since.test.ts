// --since's times, read as journalctl reads them (systemd.time(7)), against a fixed now.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseSince, parseSpan } from '../../../src/cli/verbs/logs-since.js';

const savedTz = process.env.TZ;
beforeAll(() => {
  // A zone with an offset, so local and UTC readings differ.
  process.env.TZ = 'Europe/Berlin';
});
afterAll(() => {
  process.env.TZ = savedTz;
});

// 2026-03-10 14:30:15.250 in Berlin (UTC+1 in March before the switch).
const NOW = Date.UTC(2026, 2, 10, 13, 30, 15, 250);
const us = (ms: number) => ms * 1000;

describe('parseSince', () => {
  test.each([
    ['2026-03-09 08:00:00', Date.UTC(2026, 2, 9, 7, 0, 0)],
    ['2026-03-09T08:00:00', Date.UTC(2026, 2, 9, 7, 0, 0)],
    ['2026-03-09 08:00', Date.UTC(2026, 2, 9, 7, 0, 0)],
    ['2026-03-09', Date.UTC(2026, 2, 8, 23, 0, 0)],
    ['2026-03-09 08:00:00 UTC', Date.UTC(2026, 2, 9, 8, 0, 0)],
    ['12:00', Date.UTC(2026, 2, 10, 11, 0, 0)],
    ['12:00:30', Date.UTC(2026, 2, 10, 11, 0, 30)],
    ['today', Date.UTC(2026, 2, 9, 23, 0, 0)],
    ['yesterday', Date.UTC(2026, 2, 8, 23, 0, 0)],
    ['tomorrow', Date.UTC(2026, 2, 10, 23, 0, 0)],
    ['now', NOW],
    ['-5min', NOW - 300_000],
    ['5 min ago', NOW - 300_000],
    ['1h 30min ago', NOW - 5_400_000],
    ['-1h30min', NOW - 5_400_000],
    ['+2s', NOW + 2000],
    ['10s left', NOW + 10_000],
    ['@1700000000', 1_700_000_000_000],
  ])('%s', (text, ms) => {
    expect(parseSince(text, NOW)).toBe(us(ms));
  });

  test('fractions of a second keep their microseconds', () => {
    expect(parseSince('2026-03-09 08:00:00.123456', NOW)).toBe(us(Date.UTC(2026, 2, 9, 7, 0, 0)) + 123456);
    expect(parseSince('@1700000000.5', NOW)).toBe(1_700_000_000_500_000);
  });

  test.each(['', 'soon', '2026-13-01', '25:00', '-5 parsecs', '2026-03-09 08:00:00 CET'])('%j is not a time', (text) => {
    expect(parseSince(text, NOW)).toBeUndefined();
  });
});

describe('parseSpan', () => {
  test('units add up; a bare number is seconds', () => {
    expect(parseSpan('1d 2h 3m 4s 5ms 6us')).toBe(86400e6 + 2 * 3600e6 + 3 * 60e6 + 4e6 + 5e3 + 6);
    expect(parseSpan('90')).toBe(90e6);
    expect(parseSpan('1 week')).toBe(7 * 86400e6);
  });
});
