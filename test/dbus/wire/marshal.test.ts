import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type DbusNext from 'dbus-next';
import { createRequire } from 'node:module';
import { Reader, Writer, decodeMessage, encodeMethodCall, messageLength, parseSignature } from '../../../src/dbus/wire/marshal.js';

// dbus-next's own marshaller, to check that what we write is what another implementation reads
// and the other way round.
const require = createRequire(import.meta.url);
const { marshallMessage, messageToJsFmt } = require('dbus-next/lib/marshall-compat.js') as {
  marshallMessage(m: object): [Buffer, unknown[]];
  messageToJsFmt(m: object): { body: unknown[] };
};
const { unmarshall } = require('dbus-next/lib/message.js') as { unmarshall(b: Buffer): object };
const dbus = require('dbus-next') as typeof DbusNext;

function roundTrip(sig: string, value: unknown): unknown {
  const [t] = parseSignature(sig);
  const w = new Writer();
  w.value(t!, value);
  return new Reader(w.result(), true).value(t!);
}

describe('parseSignature', () => {
  it('parses nested containers and rejects broken signatures', () => {
    expect(parseSignature('a(ssssssouso)')[0]!.children[0]!.children.map((c) => c.code).join('')).toBe('ssssssouso');
    expect(parseSignature('sa{sv}as').map((t) => t.code)).toEqual(['s', 'a', 'a']);
    expect(() => parseSignature('a(ss')).toThrow(/unclosed/);
    expect(() => parseSignature('z')).toThrow(/unknown type 'z'/);
  });
});

describe('Writer and Reader', () => {
  it('round-trip strings, numbers, arrays and structs', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.nat({ max: 0xffffffff }), fc.array(fc.string(), { maxLength: 3 }))), (rows) => {
        expect(roundTrip('a(suas)', rows)).toEqual(rows);
      }),
      { numRuns: 50 },
    );
  });

  it('aligns 8-byte structs inside arrays', () => {
    expect(roundTrip('a(us)', [[1, 'a'], [2, 'bc']])).toEqual([[1, 'a'], [2, 'bc']]);
  });
});

describe('messages', () => {
  it('encodes a method call dbus-next decodes', () => {
    const buf = encodeMethodCall(7, { destination: 'org.crtos.Manager1', path: '/org/crtos/Manager1', interface: 'org.crtos.Manager1', member: 'GetUnitLog', signature: 'su', body: ['nuttx.cell', 10] });
    expect(messageLength(buf)).toBe(buf.length);
    expect(decodeMessage(buf)).toMatchObject({ type: 1, serial: 7, member: 'GetUnitLog', destination: 'org.crtos.Manager1', signature: 'su', body: ['nuttx.cell', 10] });
    const theirs = messageToJsFmt(unmarshall(buf));
    expect(theirs).toMatchObject({ serial: 7, path: '/org/crtos/Manager1', member: 'GetUnitLog', body: ['nuttx.cell', 10] });
  });

  it('decodes what dbus-next encodes: dicts of variants, 64-bit values, nested arrays', () => {
    const { Variant, Message } = dbus;
    const body = [
      'org.crtos.Unit1',
      {
        ActiveState: new Variant('s', 'active'),
        StateChangeTimestamp: new Variant('t', 1700000000000000n),
        CPUs: new Variant('au', [2, 3]),
        Job: new Variant('(uo)', [0, '/']),
        Parameters: new Variant('a{ss}', { debug: '1' }),
        LastError: new Variant('a{sv}', { code: new Variant('s', 'ENGINE_TIMEOUT'), line: new Variant('u', 4) }),
        CellId: new Variant('i', -1),
        Up: new Variant('b', true),
      },
      ['x'],
    ];
    const msg = new Message({ type: 4, serial: 3, path: '/org/crtos/unit/nuttx_2ecell', interface: 'org.freedesktop.DBus.Properties', member: 'PropertiesChanged', signature: 'sa{sv}as', body });
    const decoded = decodeMessage(marshallMessage(msg)[0]);
    expect(decoded.body).toEqual([
      'org.crtos.Unit1',
      { ActiveState: 'active', StateChangeTimestamp: 1700000000000000n, CPUs: [2, 3], Job: [0, '/'], Parameters: { debug: '1' }, LastError: { code: 'ENGINE_TIMEOUT', line: 4 }, CellId: -1, Up: true },
      ['x'],
    ]);
  });

  it('waits for a whole message before decoding', () => {
    const buf = encodeMethodCall(1, { destination: 'a.b', path: '/', interface: 'a.b', member: 'M', signature: 's', body: ['hello'] });
    expect(messageLength(buf.subarray(0, buf.length - 1))).toBe(0);
    expect(messageLength(Buffer.concat([buf, buf]))).toBe(buf.length);
  });
});
