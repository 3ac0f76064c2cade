/** The client ↔ tool server wire format. */
import { describe, expect, it } from 'vitest';
import { FrameReader, decodeRequest, encodeRequest, exitFrame, frame } from '../../../src/sim/server/protocol.js';

describe('tool server protocol', () => {
  it('round-trips a request: argv with empty and spaced words, the environment with = in values', () => {
    const request = { started: 1796030342840.165, pid: 41, ppid: 40, cwd: '/tmp/a b', argv: ['jailhouse', 'cell', '', 'x y'], env: { A: '1', B: 'x=y', EMPTY: '' } };
    expect(decodeRequest(encodeRequest(request))).toEqual(request);
  });

  it('refuses a request whose argv count runs past its fields', () => {
    expect(decodeRequest(Buffer.from(['1', '2', '3', '/', '9', 'jailhouse', ''].join('\0')))).toBeUndefined();
  });

  it('reassembles frames split anywhere across chunks', () => {
    const bytes = Buffer.concat([frame('O', 'out'), frame('E', ''), exitFrame(3)]);
    const reader = new FrameReader();
    const frames = [...bytes].flatMap((b) => reader.push(Buffer.from([b])));
    expect(frames.map((f) => [f.type, f.payload.toString('hex')])).toEqual([
      ['O', Buffer.from('out').toString('hex')],
      ['E', ''],
      ['X', '03000000'],
    ]);
  });
});
