/**
 * crtosctl's own D-Bus connection (src/dbus/wire/connection.ts): against a real dbus-daemon for
 * calls, replies, errors and signals; through a proxy that cuts the bus's bytes into small pieces
 * for framing; against a scripted server for authentication and a connection that ends.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { socketPathOf, WireConnection, WireError } from '../../../src/dbus/wire/connection.js';
import type { WireMessage } from '../../../src/dbus/wire/marshal.js';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';

const DBUS = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' };

let bus: PrivateBus;
const open: WireConnection[] = [];
const servers: Server[] = [];
/** The server side of scripted connections: a server closes only once they are gone. */
const accepted: Socket[] = [];
const track = (c: WireConnection): WireConnection => (open.push(c), c);

beforeAll(async () => {
  bus = await startPrivateBus();
});
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  for (const s of accepted.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(async () => {
  await bus?.stop();
});

/** A unix socket server in the bus's directory; `onClient` scripts the server's side. */
async function serve(name: string, onClient: (s: Socket) => void): Promise<string> {
  const path = join(bus.dir, name);
  const server = createServer((s) => {
    accepted.push(s);
    onClient(s);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return `unix:path=${path}`;
}

/** Reads what the client sends until `text` has arrived. */
function receive(s: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const on = (d: Buffer): void => {
      got += d.toString('latin1');
      if (!got.includes(text)) return;
      s.off('data', on);
      resolve(got);
    };
    s.on('data', on);
  });
}

describe('socketPathOf', () => {
  it('reads unix:path and unix:abstract, unescaping, and takes the first unix entry of a list', () => {
    expect(socketPathOf('unix:path=/run/dbus/system_bus_socket')).toBe('/run/dbus/system_bus_socket');
    expect(socketPathOf('unix:path=/tmp/a%20b,guid=0123')).toBe('/tmp/a b');
    expect(socketPathOf('unix:abstract=/tmp/dbus-x')).toBe('\0/tmp/dbus-x');
    expect(socketPathOf('tcp:host=localhost,port=1;unix:path=/x')).toBe('/x');
  });

  it('refuses an address crtosctl cannot speak', () => {
    expect(() => socketPathOf('tcp:host=localhost,port=1')).toThrow(/unsupported bus address 'tcp:host=localhost,port=1'/);
  });
});

describe('against a real bus', () => {
  it('authenticates, says Hello and learns its unique name', async () => {
    const c = track(await WireConnection.open(bus.address));
    expect(c.uniqueName).toMatch(/^:\d+\.\d+$/);
    const [owner] = await c.call({ ...DBUS, member: 'GetNameOwner', signature: 's', body: [c.uniqueName] });
    expect(owner).toBe(c.uniqueName);
  });

  it('sends calls made before the authentication finished once it has', async () => {
    const c = track(WireConnection.start(bus.address));
    const [names] = await c.call({ ...DBUS, member: 'ListNames' });
    expect(names).toContain('org.freedesktop.DBus');
    expect(names).toContain(c.uniqueName);
  });

  it('matches each reply to its call when many are in flight', async () => {
    const c = track(await WireConnection.open(bus.address));
    const names = Array.from({ length: 200 }, (_, i) => `org.crtos.test.n${i}`);
    const replies = await Promise.all(names.map((n) => c.call({ ...DBUS, member: 'RequestName', signature: 'su', body: [n, 0] })));
    expect(replies).toEqual(names.map(() => [1])); // PRIMARY_OWNER
    const [owned] = await c.call({ ...DBUS, member: 'ListNames' });
    for (const n of names) expect(owned).toContain(n);
  });

  it('rejects an error reply with its name and message', async () => {
    const c = track(await WireConnection.open(bus.address));
    const e = await c.call({ ...DBUS, member: 'GetNameOwner', signature: 's', body: ['org.crtos.nobody'] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WireError);
    expect((e as WireError).type).toBe('org.freedesktop.DBus.Error.NameHasNoOwner');
    expect((e as WireError).text).toContain('org.crtos.nobody');
  });

  it('emits the signals it subscribed to', async () => {
    const c = track(await WireConnection.open(bus.address));
    await c.call({ ...DBUS, member: 'AddMatch', signature: 's', body: ["type='signal',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.crtos.test.watched'"] });
    // The bus also sends NameAcquired to every new connection, subscribed or not.
    const seen = new Promise<WireMessage>((resolve) => c.on('signal', (m: WireMessage) => m.member === 'NameOwnerChanged' && resolve(m)));
    const other = track(await WireConnection.open(bus.address));
    await other.call({ ...DBUS, member: 'RequestName', signature: 'su', body: ['org.crtos.test.watched', 0] });
    const signal = await seen;
    expect(signal).toMatchObject({ interface: 'org.freedesktop.DBus', member: 'NameOwnerChanged' });
    expect(signal.body).toEqual(['org.crtos.test.watched', '', other.uniqueName]);
  });

  it('reassembles messages the bus delivers in pieces', async () => {
    // A proxy that forwards the bus's bytes 7 at a time, each piece written after the last left.
    const address = await serve('chopping-proxy', (client) => {
      const upstream = createConnection(socketPathOf(bus.address));
      client.pipe(upstream);
      let queue = Buffer.alloc(0);
      let writing = false;
      const pump = (): void => {
        if (writing || queue.length === 0 || client.destroyed) return;
        writing = true;
        const piece = queue.subarray(0, 7);
        queue = queue.subarray(7);
        client.write(piece, () => {
          writing = false;
          setImmediate(pump);
        });
      };
      upstream.on('data', (d: Buffer) => {
        queue = Buffer.concat([queue, d]);
        pump();
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    const c = track(await WireConnection.open(address));
    const [names, owner] = await Promise.all([c.call({ ...DBUS, member: 'ListNames' }), c.call({ ...DBUS, member: 'GetNameOwner', signature: 's', body: [c.uniqueName] })]);
    expect(names[0]).toContain(c.uniqueName);
    expect(owner).toEqual([c.uniqueName]);
  });
});

describe('authentication and the end of a connection', () => {
  it('sends AUTH EXTERNAL with its uid, BEGIN, Hello, then the calls made meanwhile, without waiting for OK', async () => {
    let sent!: (text: string) => void;
    const received = new Promise<string>((resolve) => (sent = resolve));
    const address = await serve('recorder', (s) => void receive(s, 'ListNames').then(sent));
    const c = track(WireConnection.start(address));
    void c.call({ ...DBUS, member: 'ListNames' }).catch(() => undefined);
    const text = await received;
    const uidHex = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
    expect(text.startsWith(`\0AUTH EXTERNAL ${uidHex}\r\nBEGIN\r\n`)).toBe(true);
    expect(text.indexOf('Hello')).toBeGreaterThan(0);
    expect(text.indexOf('Hello')).toBeLessThan(text.indexOf('ListNames'));
  });

  it('rejects every call when the bus refuses the authentication', async () => {
    const address = await serve('refuser', (s) => {
      void receive(s, 'BEGIN').then(() => s.write('REJECTED EXTERNAL\r\n'));
    });
    const c = track(WireConnection.start(address));
    await expect(c.call({ ...DBUS, member: 'ListNames' })).rejects.toThrow('the bus refused authentication: REJECTED EXTERNAL');
    // The connection is dead: later calls fail at once with the same error.
    await expect(c.call({ ...DBUS, member: 'ListNames' })).rejects.toThrow('the bus refused authentication: REJECTED EXTERNAL');
  });

  it('rejects the calls still waiting when the bus closes the connection', async () => {
    const address = await serve('closer', (s) => {
      s.write('OK 0123456789abcdef0123456789abcdef\r\n');
      // Answers nothing, and hangs up once the calls are in.
      void receive(s, 'ListNames').then(() => s.destroy());
    });
    const c = track(WireConnection.start(address));
    await expect(c.call({ ...DBUS, member: 'ListNames' })).rejects.toThrow('the bus closed the connection');
  });

  it('rejects the calls when nobody answers within the time limit', async () => {
    const address = await serve('silent', () => undefined);
    const c = track(WireConnection.start(address, 100));
    await expect(c.call({ ...DBUS, member: 'ListNames' })).rejects.toThrow('no answer within 100 ms');
  });

  it('reports a socket that is not there as the socket error', async () => {
    const c = track(WireConnection.start(`unix:path=${join(bus.dir, 'absent')}`));
    await expect(c.call({ ...DBUS, member: 'ListNames' })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects its own waiting calls when closed, before or after the bus said OK', async () => {
    const address = await serve('mute', () => undefined);
    const early = WireConnection.start(address);
    const pending = early.call({ ...DBUS, member: 'ListNames' });
    early.close();
    await expect(pending).rejects.toThrow('the connection was closed');


    // After Hello: a call to a peer that never answers (it exports nothing) waits until closed.
    const late = await WireConnection.open(bus.address);
    const mute = track(await WireConnection.open(bus.address));
    await mute.call({ ...DBUS, member: 'RequestName', signature: 'su', body: ['org.crtos.test.mute', 0] });
    const waiting = late.call({ destination: 'org.crtos.test.mute', path: '/', interface: 'org.crtos.test.Mute', member: 'Anything' });
    late.close();
    await expect(waiting).rejects.toThrow('the connection was closed');
    await expect(late.call({ ...DBUS, member: 'ListNames' })).rejects.toThrow('the connection was closed');
  });

  it('rejects the waiting calls when the bus hangs up before it said OK', async () => {
    const address = await serve('hang-up', (s) => void receive(s, 'BEGIN').then(() => s.destroy()));
    const c = track(WireConnection.start(address));
    await expect(c.call({ ...DBUS, member: 'ListNames' })).rejects.toThrow('the bus closed the connection');
  });
});
