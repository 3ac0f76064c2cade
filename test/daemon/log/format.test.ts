// Which sink --log-format picks from what the machine offers.
import { describe, expect, test } from 'vitest';
import { chooseSink } from '../../../src/daemon/log/format.js';
import { parseArgs } from '../../../src/daemon/args.js';

const none = { journalSocket: false, env: {}, isTTY: false };

describe('chooseSink', () => {
  test('auto: the journal when its socket exists, even under systemd and on a terminal', () => {
    expect(chooseSink('auto', { journalSocket: true, env: { INVOCATION_ID: 'x' }, isTTY: true })).toEqual({ format: 'journal' });
  });

  test.each([['JOURNAL_STREAM', '8:1234'], ['INVOCATION_ID', '0123abcd']])('auto under systemd (%s) without the socket: <N> prefixes', (name, value) => {
    expect(chooseSink('auto', { ...none, env: { [name]: value } })).toEqual({ format: 'syslog' });
  });

  test('auto elsewhere: text on a terminal, JSON lines otherwise (as before)', () => {
    expect(chooseSink('auto', { ...none, isTTY: true })).toEqual({ format: 'text' });
    expect(chooseSink('auto', none)).toEqual({ format: 'json' });
  });

  test('asked for: taken as asked; the journal without its socket falls back to <N> prefixes with a note', () => {
    expect(chooseSink('json', { journalSocket: true, env: { INVOCATION_ID: 'x' }, isTTY: true })).toEqual({ format: 'json' });
    expect(chooseSink('text', none)).toEqual({ format: 'text' });
    expect(chooseSink('journal', { ...none, journalSocket: true })).toEqual({ format: 'journal' });
    const r = chooseSink('journal', none);
    expect(r.format).toBe('syslog');
    expect(r.note).toContain("journald's socket is not there");
  });
});

describe('--log-format', () => {
  test('takes the five formats; anything else is refused with the list', () => {
    expect(parseArgs(['--log-format', 'journal']).options?.logFormat).toBe('journal');
    expect(parseArgs(['--log-format=text']).options?.logFormat).toBe('text');
    expect(parseArgs([]).options?.logFormat).toBeUndefined();
    const bad = parseArgs(['--log-format', 'xml']);
    expect(bad.options).toBeUndefined();
    expect(bad.problems.map((p) => [p.message, p.hint])).toEqual([["unknown log format 'xml'", 'use one of auto, journal, syslog, json, text']]);
  });
});
