import { describe, expect, it } from 'vitest';
import { formatCpuList, formatSpan, formatTimestamp, labelled, stateGlyph, table } from '../../../src/cli/format/text.js';

describe('text helpers', () => {
  it('writes spans the systemd way: the two largest units', () => {
    expect(formatSpan(250)).toBe('250ms');
    expect(formatSpan(3_000)).toBe('3s');
    expect(formatSpan(125_000)).toBe('2min 5s');
    expect(formatSpan(3_600_000)).toBe('1h');
    expect(formatSpan(90_061_000)).toBe('1 day 1h');
    expect(formatSpan(15 * 86_400_000)).toBe('2 weeks 1 day');
  });

  it('compresses CPU lists to ranges', () => {
    expect(formatCpuList([3, 0, 1, 2, 5, 7, 8])).toBe('0-3,5,7-8');
    expect(formatCpuList([])).toBe('');
  });

  it('formats timestamps in local time with the zone', () => {
    process.env.TZ = 'UTC';
    expect(formatTimestamp(1_700_000_000_000_000)).toBe('Tue 2023-11-14 22:13:20 UTC');
    expect(formatTimestamp(0)).toBe('');
  });

  it('uses glyphs and colour on a terminal, ASCII stand-ins off it', () => {
    expect(['active', 'inactive', 'failed'].map((s) => stateGlyph({ color: false }, s))).toEqual(['*', 'o', 'x']);
    expect(stateGlyph({ color: true }, 'failed')).toBe('\x1b[1;31m×\x1b[0m');
    expect(stateGlyph({ color: true }, 'inactive')).toBe('○');
  });

  it('aligns tables and labels ignoring colour escapes', () => {
    expect(table([['\x1b[1ma\x1b[0m', 'b'], ['ccc', 'd']])).toEqual(['\x1b[1ma\x1b[0m   b', 'ccc d']);
    expect(labelled([['Loaded', 'x'], ['Drop-In', 'd\ne']])).toEqual([' Loaded: x', 'Drop-In: d', '         e']);
  });
});
