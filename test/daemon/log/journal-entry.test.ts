// A record as journald's native protocol entry: field names by journald's rules, priorities from
// pino's levels, loaders' `<N>` prefixes, the binary form of values with newlines, and cutting.
import { describe, expect, test } from 'vitest';
import { encodeEntry, journalFieldName, loaderFields, loaderLinePriority, recordFields } from '../../../src/daemon/log/journal-entry.js';
import { parseRecord, syslogPriority } from '../../../src/daemon/log/record.js';

const record = (fields: Record<string, unknown>) => parseRecord(JSON.stringify({ level: 30, time: 1, msg: 'm', ...fields }))!;

/** The fields of a datagram, decoded as journald reads it. */
function decode(d: Buffer): [string, string][] {
  const out: [string, string][] = [];
  let at = 0;
  while (at < d.length) {
    const nl = d.indexOf(10, at);
    const line = d.subarray(at, nl).toString();
    const eq = line.indexOf('=');
    if (eq >= 0) {
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
      at = nl + 1;
    } else {
      const size = Number(d.readBigUInt64LE(nl + 1));
      out.push([line, d.subarray(nl + 9, nl + 9 + size).toString()]);
      expect(d[nl + 9 + size]).toBe(10);
      at = nl + 10 + size;
    }
  }
  return out;
}

describe('priorities', () => {
  test.each([
    [10, 7],
    [20, 7],
    [30, 6],
    [40, 4],
    [50, 3],
    [60, 2],
  ])('pino level %i is syslog priority %i', (level, priority) => {
    expect(syslogPriority(level)).toBe(priority);
  });

  test('a loader line sets its own with <N>; otherwise the fallback', () => {
    expect(loaderLinePriority('<3>disk on fire', 6)).toEqual({ priority: 3, text: 'disk on fire' });
    expect(loaderLinePriority('<8>not a priority', 6)).toEqual({ priority: 6, text: '<8>not a priority' });
    expect(loaderLinePriority('plain', 6)).toEqual({ priority: 6, text: 'plain' });
  });
});

describe('field names', () => {
  test.each([
    ['errno', 'ERRNO'],
    ['exit-code', 'EXIT_CODE'],
    ['state.dir', 'STATE_DIR'],
    ['_PID', 'PID'],
    ['__x', 'X'],
    ['1st', 'F1ST'],
    ['ünit', 'NIT'],
    ['x'.repeat(80), 'X'.repeat(64)],
  ])('%s → %s', (key, name) => {
    expect(journalFieldName(key)).toBe(name);
  });

  test('nothing usable is dropped', () => {
    expect(journalFieldName('_')).toBeUndefined();
    expect(journalFieldName('')).toBeUndefined();
  });
});

describe('recordFields', () => {
  test('MESSAGE (the unit, the message and its fields, as crtosd prints them), PRIORITY, SYSLOG_IDENTIFIER, CRTOS_UNIT, then the record’s own fields; time, level, pid and hostname are the journal’s', () => {
    const rec = record({ level: 50, unit: 'nuttx.cell', msg: 'start failed', errno: 'EBUSY', paths: ['/a', '/b'], pid: 9, hostname: 'h' });
    expect(recordFields(rec, { identifier: 'crtosd' })).toEqual([
      ['MESSAGE', 'nuttx.cell: start failed errno=EBUSY paths=["/a","/b"]'],
      ['PRIORITY', '3'],
      ['SYSLOG_IDENTIFIER', 'crtosd'],
      ['CRTOS_UNIT', 'nuttx.cell'],
      ['ERRNO', 'EBUSY'],
      ['PATHS', '["/a","/b"]'],
    ]);
  });

  test('a field named like one crtosd sets is kept under CRTOS_', () => {
    expect(recordFields(record({ priority: 'high', message: 'x' }), { identifier: 'crtosd' }).slice(3)).toEqual([
      ['CRTOS_PRIORITY', 'high'],
      ['CRTOS_MESSAGE', 'x'],
    ]);
  });

  test('a loader line: its program, PID and unit', () => {
    expect(loaderFields({ unit: 'hello.loader', program: 'loader', pid: 42, text: '<4>low on memory' })).toEqual([
      ['MESSAGE', 'low on memory'],
      ['PRIORITY', '4'],
      ['SYSLOG_IDENTIFIER', 'loader'],
      ['SYSLOG_PID', '42'],
      ['CRTOS_UNIT', 'hello.loader'],
    ]);
    expect(loaderFields({ unit: 'a.loader', program: 'a', pid: 0, text: 'x' }).map(([n]) => n)).not.toContain('SYSLOG_PID');
  });
});

describe('encodeEntry', () => {
  test('NAME=value lines; a value with a newline in the length-prefixed form', () => {
    const d = encodeEntry([
      ['MESSAGE', 'two\nlines'],
      ['PRIORITY', '6'],
    ]);
    expect(d.subarray(0, 8).toString()).toBe('MESSAGE\n');
    expect(d.readBigUInt64LE(8)).toBe(9n);
    expect(d.subarray(16).toString()).toBe('two\nlines\nPRIORITY=6\n');
    expect(decode(d)).toEqual([
      ['MESSAGE', 'two\nlines'],
      ['PRIORITY', '6'],
    ]);
  });

  test('an entry over the limit is cut, says so, and keeps every field', () => {
    const big = 'é'.repeat(5000); // 10000 bytes, two per character
    const d = encodeEntry(
      [
        ['MESSAGE', big],
        ['PRIORITY', '3'],
        ['DETAIL', 'x'.repeat(3000)],
      ],
      4096,
      1000,
    );
    expect(d.length).toBeLessThanOrEqual(4096);
    const fields = Object.fromEntries(decode(d));
    expect(fields.PRIORITY).toBe('3');
    expect(fields.DETAIL).toBe(`${'x'.repeat(1000)} [… 2000 bytes cut]`);
    expect(fields.MESSAGE).toMatch(/^(é)+ \[… \d+ bytes cut\]$/);
    const keptMessage = Buffer.byteLength(fields.MESSAGE!.replace(/ \[….*$/, ''));
    expect(Number(/\[… (\d+) bytes cut\]$/.exec(fields.MESSAGE!)![1])).toBe(10000 - keptMessage);
    expect(Number(fields.CRTOS_TRUNCATED)).toBe(2000 + 10000 - keptMessage);
  });

  test('an entry within the limit is untouched', () => {
    expect(decode(encodeEntry([['MESSAGE', 'short']], 4096, 1000))).toEqual([['MESSAGE', 'short']]);
  });
});
