/**
 * A record as one entry of journald's native protocol (systemd's "Native Journal Protocol"): a
 * datagram of fields, each `NAME=value\n`, or, for a value holding a newline, `NAME\n`, its length
 * as a 64-bit little-endian integer, the value and `\n`. Pure: the socket is journal-socket.ts's.
 *
 * Field names follow journald's rules: A–Z, 0–9 and `_` only, not starting with a digit, at most
 * 64 characters, and not starting with `_` (those are the fields journald itself vouches for, such
 * as _PID; it drops them from clients). A record's own field is upper-cased with every other
 * character made `_`; a name that would collide with one crtosd sets is kept under CRTOS_<NAME>.
 */
import type { LoaderLine } from '../../engine/loader-output.js';
import { PLACED_FIELDS, recordText, syslogPriority, type LogRecord } from './record.js';

export type JournalField = readonly [name: string, value: string];

/** A datagram journald receives whole: below the 212992-byte default socket send buffer, with room to spare. */
export const MAX_ENTRY_BYTES = 128 * 1024;
/** A field other than MESSAGE is cut at this many bytes, so the message keeps most of the room. */
export const MAX_FIELD_BYTES = 8 * 1024;
const NAME_MAX = 64;

/** A record field's journal name, or undefined when nothing of it is usable (`_`, empty). */
export function journalFieldName(key: string): string | undefined {
  let name = key.toUpperCase().replace(/[^A-Z0-9_]/g, '_').replace(/^_+/, '');
  if (name === '') return undefined;
  if (/^[0-9]/.test(name)) name = `F${name}`;
  return name.slice(0, NAME_MAX);
}

/** Where an entry comes from: crtosd itself (its records) or a loader's output. */
export interface EntrySource {
  identifier: string;
  pid?: number;
}

/**
 * The fields of a crtosd record: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CRTOS_UNIT, then its own.
 * MESSAGE is the line crtosd prints elsewhere (`nuttx.cell: start failed errno=EBUSY`), as systemd
 * names the unit in its own messages: `journalctl -u crtosd` shows MESSAGE alone, and a bare
 * "start failed" said neither which unit nor why.
 */
export function recordFields(rec: LogRecord, source: EntrySource): JournalField[] {
  const fields: JournalField[] = [
    ['MESSAGE', recordText(rec)],
    ['PRIORITY', String(syslogPriority(rec.level))],
    ['SYSLOG_IDENTIFIER', source.identifier],
  ];
  if (source.pid !== undefined) fields.push(['SYSLOG_PID', String(source.pid)]);
  if (rec.unit) fields.push(['CRTOS_UNIT', rec.unit]);
  const taken = new Set(fields.map(([n]) => n));
  for (const [key, value] of Object.entries(rec)) {
    if (PLACED_FIELDS.has(key) || value === undefined) continue;
    const base = journalFieldName(key);
    if (!base) continue;
    const name = taken.has(base) ? `CRTOS_${base}`.slice(0, NAME_MAX) : base;
    taken.add(name);
    fields.push([name, typeof value === 'string' ? value : JSON.stringify(value)]);
  }
  return fields;
}

/** A line a loader printed: `<N>` at its start (sd-daemon(3)) sets the priority, else `fallback`. */
export function loaderLinePriority(line: string, fallback: number): { priority: number; text: string } {
  const m = /^<([0-7])>/.exec(line);
  return m ? { priority: Number(m[1]), text: line.slice(3) } : { priority: fallback, text: line };
}

/**
 * The fields of a loader's output line: under the loader's program name and PID, with its unit.
 * The loader's stdout and stderr share one file (src/host/output-file.ts), so a line is priority
 * 6 (info) unless it says otherwise with a `<N>` prefix.
 */
export function loaderFields(l: LoaderLine): JournalField[] {
  const { priority, text } = loaderLinePriority(l.text, 6);
  const fields: JournalField[] = [
    ['MESSAGE', text],
    ['PRIORITY', String(priority)],
    ['SYSLOG_IDENTIFIER', l.program],
  ];
  if (l.pid > 0) fields.push(['SYSLOG_PID', String(l.pid)]);
  fields.push(['CRTOS_UNIT', l.unit]);
  return fields;
}

/** Cuts `value` to at most `max` bytes at a character boundary; returns the bytes kept and how many were cut. */
function cut(value: Buffer, max: number): { kept: Buffer; cut: number } {
  if (value.length <= max) return { kept: value, cut: 0 };
  let end = Math.max(0, max);
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (value[end]! & 0xc0) === 0x80) end--;
  return { kept: value.subarray(0, end), cut: value.length - end };
}

function fieldBytes(name: string, value: Buffer): Buffer {
  if (!value.includes(10)) return Buffer.concat([Buffer.from(`${name}=`), value, Buffer.from('\n')]);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(value.length));
  return Buffer.concat([Buffer.from(`${name}\n`), size, value, Buffer.from('\n')]);
}

/**
 * The datagram of an entry. One larger than MAX_ENTRY_BYTES is not lost: fields other than
 * MESSAGE are cut at MAX_FIELD_BYTES and MESSAGE at what is left, each cut value ends in
 * `[… N bytes cut]`, and CRTOS_TRUNCATED says how many bytes were cut in all.
 */
export function encodeEntry(fields: readonly JournalField[], maxBytes = MAX_ENTRY_BYTES, maxField = MAX_FIELD_BYTES): Buffer {
  const values = fields.map(([name, value]) => [name, Buffer.from(value)] as const);
  const whole = values.map(([name, value]) => fieldBytes(name, value));
  if (whole.reduce((n, b) => n + b.length, 0) <= maxBytes) return Buffer.concat(whole);
  // Room for the markers, CRTOS_TRUNCATED and each field's name, length and newline.
  const overhead = 64 + values.reduce((n, [name]) => n + name.length + 40, 0);
  let cutTotal = 0;
  const mark = (kept: Buffer, n: number) => (n > 0 ? Buffer.concat([kept, Buffer.from(` [… ${n} bytes cut]`)]) : kept);
  const others = values.map(([name, value]) => {
    if (name === 'MESSAGE') return [name, value] as const;
    const c = cut(value, maxField);
    cutTotal += c.cut;
    return [name, mark(c.kept, c.cut)] as const;
  });
  const room = maxBytes - overhead - others.reduce((n, [name, value]) => n + (name === 'MESSAGE' ? 0 : value.length), 0);
  const parts = others.map(([name, value]) => {
    if (name !== 'MESSAGE') return fieldBytes(name, value);
    const c = cut(value, room);
    cutTotal += c.cut;
    return fieldBytes(name, mark(c.kept, c.cut));
  });
  parts.push(fieldBytes('CRTOS_TRUNCATED', Buffer.from(String(cutTotal))));
  return Buffer.concat(parts);
}
