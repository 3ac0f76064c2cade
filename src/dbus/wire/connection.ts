/**
 * A small D-Bus client connection for crtosctl: unix socket, EXTERNAL authentication, Hello,
 * method calls matched to replies by serial, signals as events. It loads in a fraction of the
 * time dbus-next takes (crtosctl start-up is a product goal); the service keeps dbus-next.
 */
import { createConnection, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { decodeMessage, encodeMethodCall, messageLength, MessageType, type WireMessage } from './marshal.js';

export class WireError extends Error {
  constructor(
    readonly type: string,
    readonly text: string,
  ) {
    super(text ? `${type}: ${text}` : type);
    this.name = 'WireError';
  }
}

export interface CallSpec {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
}

/** `unix:path=/x` or `unix:abstract=x` (the first that parses of a `;`-separated list). */
export function socketPathOf(address: string): string {
  for (const part of address.split(';')) {
    const [family, params = ''] = part.split(/:(.*)/s);
    if (family !== 'unix') continue;
    const kv = Object.fromEntries(params.split(',').map((p) => p.split(/=(.*)/s) as [string, string]));
    if (kv.path) return decodeURIComponent(kv.path);
    if (kv.abstract) return `\0${decodeURIComponent(kv.abstract)}`;
  }
  throw new Error(`unsupported bus address '${address}' (crtosctl speaks unix:path= and unix:abstract=)`);
}

export class WireConnection extends EventEmitter {
  private serial = 1;
  private readonly pending = new Map<number, { resolve: (m: WireMessage) => void; reject: (e: Error) => void }>();
  private inbox: Buffer = Buffer.alloc(0);
  uniqueName = '';

  private constructor(private readonly socket: Socket) {
    super();
  }

  /** Connects and waits for the bus's Hello reply. */
  static async open(address: string, timeoutMs = 5000): Promise<WireConnection> {
    const conn = WireConnection.start(address, timeoutMs);
    await conn.hello;
    return conn;
  }

  /**
   * Connects without waiting: calls made now are queued and written in one go with the
   * authentication, BEGIN and Hello, as sd-bus pipelines them; a short crtosctl run then costs
   * one round trip to the bus instead of four. A connection failure rejects every call.
   */
  static start(address: string, timeoutMs = 5000): WireConnection {
    const socket = createConnection(socketPathOf(address));
    const conn = new WireConnection(socket);
    conn.hello = conn
      .call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'Hello' })
      .then((body) => {
        clearTimeout(timer);
        conn.uniqueName = String(body[0] ?? '');
      });
    // A failed connection is reported through the calls; nobody may be waiting on Hello itself.
    conn.hello.catch(() => undefined);
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref?.();
    const fail = (e: Error): void => {
      // The first failure is the one to report (an error is followed by a close).
      if (conn.dead) return;
      clearTimeout(timer);
      conn.dead = e;
      conn.failAll(e);
      socket.destroy();
    };
    socket.once('error', fail);
    // A bus that hangs up before OK sends no error; the calls waiting must still end.
    const hungUp = (): void => fail(new Error('the bus closed the connection'));
    socket.once('close', hungUp);
    socket.once('connect', () => {
      const uid = process.getuid?.() ?? 0;
      socket.write(Buffer.concat([Buffer.from(`\0AUTH EXTERNAL ${Buffer.from(String(uid)).toString('hex')}\r\nBEGIN\r\n`, 'latin1'), conn.flushQueued()]));
    });
    let auth: Buffer = Buffer.alloc(0);
    const onAuth = (d: Buffer): void => {
      auth = Buffer.concat([auth, d]);
      const end = auth.indexOf('\r\n');
      if (end < 0) return;
      socket.off('data', onAuth);
      const line = auth.toString('latin1', 0, end);
      if (!line.startsWith('OK ')) {
        fail(new Error(`the bus refused authentication: ${line}`));
        return;
      }
      socket.off('error', fail);
      socket.off('close', hungUp);
      conn.attach(auth.subarray(end + 2));
    };
    socket.on('data', onAuth);
    return conn;
  }

  /** Resolves once the bus answered Hello. */
  hello: Promise<void> = Promise.resolve();
  private dead: Error | undefined;

  /** Messages written before authentication finished; sent right after BEGIN. */
  private queued: Buffer[] | undefined = [];

  flushQueued(): Buffer {
    const all = Buffer.concat(this.queued ?? []);
    this.queued = undefined;
    return all;
  }

  private attach(first: Buffer): void {
    const onData = (d: Buffer): void => {
      this.inbox = this.inbox.length ? Buffer.concat([this.inbox, d]) : d;
      for (let n = messageLength(this.inbox); n > 0; n = messageLength(this.inbox)) {
        const raw = this.inbox.subarray(0, n);
        this.inbox = this.inbox.subarray(n);
        let msg: WireMessage;
        try {
          msg = decodeMessage(raw);
        } catch (e) {
          this.failAll(e instanceof Error ? e : new Error(String(e)));
          this.socket.destroy();
          return;
        }
        this.dispatch(msg);
      }
    };
    this.socket.on('data', onData);
    if (first.length) onData(first);
    const closed = (e?: Error): void => this.failAll(e ?? new Error('the bus closed the connection'));
    this.socket.on('error', closed);
    this.socket.on('close', () => closed());
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private dispatch(msg: WireMessage): void {
    if (msg.type === MessageType.METHOD_RETURN || msg.type === MessageType.ERROR) {
      const p = msg.replySerial === undefined ? undefined : this.pending.get(msg.replySerial);
      if (!p) return;
      this.pending.delete(msg.replySerial!);
      if (msg.type === MessageType.ERROR) p.reject(new WireError(msg.errorName ?? 'org.freedesktop.DBus.Error.Failed', typeof msg.body[0] === 'string' ? msg.body[0] : ''));
      else p.resolve(msg);
    } else if (msg.type === MessageType.SIGNAL) {
      this.emit('signal', msg);
    }
    // Method calls to us: crtosctl exports nothing; the bus answers them for us when we are gone.
  }

  /** Sends a method call; resolves with the reply body, rejects with WireError on an error reply. */
  call(spec: CallSpec): Promise<unknown[]> {
    const serial = this.serial++;
    return new Promise((resolve, reject) => {
      if (this.dead) {
        reject(this.dead);
        return;
      }
      let data: Buffer;
      try {
        data = encodeMethodCall(serial, spec);
      } catch (e) {
        reject(e);
        return;
      }
      this.pending.set(serial, { resolve: (m) => resolve(m.body), reject });
      if (this.queued) this.queued.push(data);
      else this.socket.write(data);
    });
  }

  /** Ends the connection; calls still waiting (or made later) are rejected. */
  close(): void {
    this.dead ??= new Error('the connection was closed');
    this.failAll(this.dead);
    this.socket.end();
    this.socket.destroy();
  }
}
