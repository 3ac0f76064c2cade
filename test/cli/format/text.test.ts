import { describe, expect, it } from 'vitest';
import { formatCpuList, formatSpan, formatTimestamp, labelled, localeIsUtf8, stateGlyph, table, treeGlyphs } from '../../../src/cli/format/text.js';

describe('text helpers', () => {
  it('takes the locale as UTF-8 as systemd does: by LC_ALL, else LC_CTYPE, else LANG; also when none is set; SYSTEMD_UTF8 decides first', () => {
    expect(localeIsUtf8({})).toBe(true);
    expect(localeIsUtf8({ LANG: 'C.UTF-8' })).toBe(true);
    expect(localeIsUtf8({ LANG: 'de_DE.utf8@euro' })).toBe(true);
    expect(localeIsUtf8({ LANG: 'C' })).toBe(false);
    expect(localeIsUtf8({ LANG: 'POSIX' })).toBe(false);
    expect(localeIsUtf8({ LANG: 'en_US.ISO-8859-1' })).toBe(false);
    expect(localeIsUtf8({ LC_ALL: 'C', LANG: 'en_US.UTF-8' })).toBe(false);
    expect(localeIsUtf8({ LC_CTYPE: 'en_US.UTF-8', LANG: 'C' })).toBe(true);
    // An empty variable counts as unset, as the C library takes it.
    expect(localeIsUtf8({ LC_ALL: '', LANG: 'C.UTF-8' })).toBe(true);
    expect(localeIsUtf8({ SYSTEMD_UTF8: '0', LANG: 'C.UTF-8' })).toBe(false);
    expect(localeIsUtf8({ SYSTEMD_UTF8: 'yes', LANG: 'C' })).toBe(true);
    expect(localeIsUtf8({ SYSTEMD_UTF8: 'maybe', LANG: 'C' })).toBe(false);
    expect(treeGlyphs({ utf8: true }).right).toBe('└─');
    expect(treeGlyphs({ utf8: false }).right).toBe('`-');
  });

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
