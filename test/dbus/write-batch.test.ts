import { describe, expect, it } from 'vitest';
import { createServer, connect, type Socket } from 'node:net';
import { busStream, writesBatchedPerTurn } from '../../src/dbus/write-batch.js';

const turn = () => new Promise((r) => setImmediate(r));

/** A stream that records cork/uncork and the writes that left it. */
function recorder() {
  const events: string[] = [];
  let depth = 0;
  const pending: string[] = [];
  return {
    events,
    cork: () => {
      depth++;
      events.push('cork');
    },
    uncork: () => {
      depth--;
      events.push('uncork');
      if (depth === 0 && pending.length > 0) events.push(`flush ${pending.splice(0).join(',')}`);
    },
    write: (s: string) => (depth > 0 ? pending.push(s) : events.push(`flush ${s}`)),
  };
}

describe('writesBatchedPerTurn', () => {
  it('holds what one turn sends and lets it go in one write when the loop turns', async () => {
    const stream = recorder();
    const beforeSend = writesBatchedPerTurn(stream);
    for (const m of ['a', 'b', 'c']) {
      beforeSend();
      stream.write(m);
    }
    expect(stream.events).toEqual(['cork']);
    await turn();
    expect(stream.events).toEqual(['cork', 'uncork', 'flush a,b,c']);
  });

  it('corks again for the next turn', async () => {
    const stream = recorder();
    const beforeSend = writesBatchedPerTurn(stream);
    beforeSend();
    stream.write('a');
    await turn();
    beforeSend();
    stream.write('b');
    await turn();
    expect(stream.events).toEqual(['cork', 'uncork', 'flush a', 'cork', 'uncork', 'flush b']);
  });

  it('leaves a stream that cannot cork as it is', () => {
    expect(() => writesBatchedPerTurn({})()).not.toThrow();
    expect(() => writesBatchedPerTurn(undefined)()).not.toThrow();
  });

  it("sends a turn's messages over a real socket in the order they were written", async () => {
    const received: Buffer[] = [];
    const server = createServer((s) => s.on('data', (d: Buffer) => received.push(d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const client: Socket = connect(port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    const beforeSend = writesBatchedPerTurn(client);
    for (const m of ['one;', 'two;', 'three;']) {
      beforeSend();
      client.write(m);
    }
    await new Promise<void>((r) => {
      const check = () => (Buffer.concat(received).length >= 14 ? r() : setTimeout(check, 5));
      check();
    });
    expect(Buffer.concat(received).toString()).toBe('one;two;three;');
    client.destroy();
    await new Promise((r) => server.close(r));
  });
});

describe('busStream', () => {
  it("finds the socket under a dbus-next bus connection, and nothing on another object", () => {
    const stream = { cork() {}, uncork() {} };
    expect(busStream({ _connection: { stream } })).toBe(stream);
    expect(busStream({})).toBeUndefined();
  });
});
