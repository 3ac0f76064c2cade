/**
 * The D-Bus wire format (D-Bus specification, "Message Protocol"), as much as crtosctl needs:
 * encoding method calls with basic arguments, decoding any reply or signal. Pure functions over
 * Buffers. Variants decode to their value (callers know the property types); 64-bit integers
 * decode to bigint.
 */

export interface TypeNode {
  code: string;
  /** Array element, struct members, or dict-entry key and value. */
  children: TypeNode[];
}

export function parseSignature(sig: string): TypeNode[] {
  let i = 0;
  const one = (): TypeNode => {
    const c = sig[i++];
    if (c === undefined) throw new Error(`truncated signature '${sig}'`);
    if (c === 'a') return { code: 'a', children: [one()] };
    if (c === '(' || c === '{') {
      const close = c === '(' ? ')' : '}';
      const children: TypeNode[] = [];
      while (sig[i] !== close) {
        if (i >= sig.length) throw new Error(`unclosed '${c}' in signature '${sig}'`);
        children.push(one());
      }
      i++;
      return { code: c, children };
    }
    if (!'ybnqiuxtdsogvh'.includes(c)) throw new Error(`unknown type '${c}' in signature '${sig}'`);
    return { code: c, children: [] };
  };
  const out: TypeNode[] = [];
  while (i < sig.length) out.push(one());
  return out;
}

const ALIGN: Record<string, number> = { y: 1, g: 1, v: 1, n: 2, q: 2, b: 4, i: 4, u: 4, h: 4, s: 4, o: 4, a: 4, x: 8, t: 8, d: 8, '(': 8, '{': 8 };
const alignOf = (t: TypeNode): number => ALIGN[t.code] ?? 1;

/** Little-endian writer; offsets count from the start of the message, as alignment does. */
export class Writer {
  private buf = Buffer.alloc(256);
  length = 0;
  constructor(private readonly base = 0) {}

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  align(n: number): void {
    const pad = (n - ((this.base + this.length) % n)) % n;
    this.room(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  u8(v: number): void {
    this.room(1);
    this.buf.writeUInt8(v, this.length++);
  }
  u32(v: number): void {
    this.align(4);
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }
  u64(v: bigint): void {
    this.align(8);
    this.room(8);
    this.buf.writeBigUInt64LE(v, this.length);
    this.length += 8;
  }
  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  string(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u32(b.length);
    this.bytes(b);
    this.u8(0);
  }
  signature(s: string): void {
    const b = Buffer.from(s, 'ascii');
    this.u8(b.length);
    this.bytes(b);
    this.u8(0);
  }
  value(t: TypeNode, v: unknown): void {
    switch (t.code) {
      case 'y':
        return this.u8(Number(v));
      case 'b':
        return this.u32(v ? 1 : 0);
      case 'u':
      case 'i':
        return this.u32(Number(v));
      case 't':
        return this.u64(BigInt(v as bigint | number));
      case 's':
      case 'o':
        return this.string(String(v));
      case 'g':
        return this.signature(String(v));
      case 'v': {
        const [sig, inner] = v as [string, unknown];
        this.signature(sig);
        const [node] = parseSignature(sig);
        if (!node) throw new Error('empty variant signature');
        return this.value(node, inner);
      }
      case 'a': {
        const el = t.children[0]!;
        this.u32(0);
        const lengthAt = this.length - 4;
        this.align(alignOf(el));
        const start = this.length;
        for (const item of v as unknown[]) this.value(el, item);
        this.buf.writeUInt32LE(this.length - start, lengthAt);
        return;
      }
      case '(':
        this.align(8);
        (v as unknown[]).forEach((item, i) => this.value(t.children[i]!, item));
        return;
    }
    throw new Error(`cannot encode type '${t.code}'`);
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

export class Reader {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly le: boolean,
    private readonly base = 0,
  ) {}

  align(n: number): void {
    this.pos += (n - ((this.base + this.pos) % n)) % n;
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error('message shorter than its types');
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  u32(): number {
    this.align(4);
    this.need(4);
    const v = this.le ? this.buf.readUInt32LE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  private fixed<T>(size: number, le: (o: number) => T, be: (o: number) => T): T {
    this.align(size);
    this.need(size);
    const v = this.le ? le(this.pos) : be(this.pos);
    this.pos += size;
    return v;
  }
  string(): string {
    const n = this.u32();
    this.need(n + 1);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n + 1;
    return s;
  }
  signature(): string {
    const n = this.u8();
    this.need(n + 1);
    const s = this.buf.toString('ascii', this.pos, this.pos + n);
    this.pos += n + 1;
    return s;
  }
  value(t: TypeNode): unknown {
    const b = this.buf;
    switch (t.code) {
      case 'y':
        return this.u8();
      case 'b':
        return this.u32() !== 0;
      case 'n':
        return this.fixed(2, (o) => b.readInt16LE(o), (o) => b.readInt16BE(o));
      case 'q':
        return this.fixed(2, (o) => b.readUInt16LE(o), (o) => b.readUInt16BE(o));
      case 'i':
        return this.fixed(4, (o) => b.readInt32LE(o), (o) => b.readInt32BE(o));
      case 'u':
      case 'h':
        return this.u32();
      case 'x':
        return this.fixed(8, (o) => b.readBigInt64LE(o), (o) => b.readBigInt64BE(o));
      case 't':
        return this.fixed(8, (o) => b.readBigUInt64LE(o), (o) => b.readBigUInt64BE(o));
      case 'd':
        return this.fixed(8, (o) => b.readDoubleLE(o), (o) => b.readDoubleBE(o));
      case 's':
      case 'o':
        return this.string();
      case 'g':
        return this.signature();
      case 'v': {
        const [node] = parseSignature(this.signature());
        if (!node) throw new Error('empty variant signature');
        return this.value(node);
      }
      case '(':
        this.align(8);
        return t.children.map((c) => this.value(c));
      case 'a': {
        const el = t.children[0]!;
        const n = this.u32();
        this.align(alignOf(el));
        const end = this.pos + n;
        if (el.code === '{') {
          const dict: Record<string, unknown> = {};
          while (this.pos < end) {
            this.align(8);
            const key = this.value(el.children[0]!);
            dict[String(key)] = this.value(el.children[1]!);
          }
          return dict;
        }
        const items: unknown[] = [];
        while (this.pos < end) items.push(this.value(el));
        return items;
      }
    }
    throw new Error(`cannot decode type '${t.code}'`);
  }
}

export const MessageType = { METHOD_CALL: 1, METHOD_RETURN: 2, ERROR: 3, SIGNAL: 4 } as const;
const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, sender: 7, signature: 8 } as const;

export interface WireMessage {
  type: number;
  flags: number;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  signature: string;
  body: unknown[];
}

export function encodeMethodCall(serial: number, m: { destination: string; path: string; interface: string; member: string; signature?: string; body?: unknown[] }): Buffer {
  const signature = m.signature ?? '';
  const body = new Writer(0);
  parseSignature(signature).forEach((t, i) => body.value(t, m.body?.[i]));
  const head = new Writer(0);
  head.u8(0x6c); // 'l': little-endian
  head.u8(MessageType.METHOD_CALL);
  head.u8(0);
  head.u8(1);
  head.u32(body.length);
  head.u32(serial);
  const fields: [number, [string, unknown]][] = [
    [FIELD.path, ['o', m.path]],
    [FIELD.interface, ['s', m.interface]],
    [FIELD.member, ['s', m.member]],
    [FIELD.destination, ['s', m.destination]],
  ];
  if (signature) fields.push([FIELD.signature, ['g', signature]]);
  head.value({ code: 'a', children: [{ code: '(', children: [{ code: 'y', children: [] }, { code: 'v', children: [] }] }] }, fields);
  head.align(8);
  return Buffer.concat([head.result(), body.result()]);
}

/** Length of the first complete message in `buf`, or 0 when more bytes are needed. */
export function messageLength(buf: Buffer): number {
  if (buf.length < 16) return 0;
  const le = buf[0] === 0x6c;
  const bodyLen = le ? buf.readUInt32LE(4) : buf.readUInt32BE(4);
  const fieldsLen = le ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
  const total = 16 + fieldsLen + ((8 - (fieldsLen % 8)) % 8) + bodyLen;
  return buf.length >= total ? total : 0;
}

export function decodeMessage(buf: Buffer): WireMessage {
  const le = buf[0] === 0x6c;
  if (!le && buf[0] !== 0x42) throw new Error('not a D-Bus message');
  const r = new Reader(buf, le);
  r.pos = 1;
  const type = r.u8();
  const flags = r.u8();
  r.u8();
  const bodyLen = r.u32();
  const serial = r.u32();
  const fields = r.value({ code: 'a', children: [{ code: '(', children: [{ code: 'y', children: [] }, { code: 'v', children: [] }] }] }) as [number, unknown][];
  r.align(8);
  const msg: WireMessage = { type, flags, serial, signature: '', body: [] };
  for (const [code, value] of fields) {
    if (code === FIELD.path) msg.path = String(value);
    else if (code === FIELD.interface) msg.interface = String(value);
    else if (code === FIELD.member) msg.member = String(value);
    else if (code === FIELD.errorName) msg.errorName = String(value);
    else if (code === FIELD.replySerial) msg.replySerial = Number(value);
    else if (code === FIELD.destination) msg.destination = String(value);
    else if (code === FIELD.sender) msg.sender = String(value);
    else if (code === FIELD.signature) msg.signature = String(value);
  }
  const bodyStart = r.pos;
  const body = new Reader(buf.subarray(bodyStart, bodyStart + bodyLen), le, 0);
  msg.body = parseSignature(msg.signature).map((t) => body.value(t));
  return msg;
}
