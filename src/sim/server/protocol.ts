/**
 * The wire format between the stand-in client (src/sim/client/crtos-sim-client.c) and the
 * machine's tool server: frames of 1 type byte, a 4-byte little-endian length and the payload.
 * Client → server: 'R' one request, 'I' stdin data (empty: end of stdin). Server → client: 'O'
 * stdout, 'E' stderr, 'X' the exit status (4 bytes).
 */

/** One stand-in invocation as the client saw it. */
export interface ToolRequest {
  /** Epoch ms the client process started: the operation log's `start`. */
  started: number;
  pid: number;
  ppid: number;
  cwd: string;
  argv: string[];
  env: Record<string, string>;
}

export type FrameType = 'R' | 'I' | 'O' | 'E' | 'X';

export function frame(type: FrameType, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32LE(body.length, 1);
  return Buffer.concat([head, body]);
}

export function exitFrame(code: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32LE(code >>> 0);
  return frame('X', body);
}

/** Splits a byte stream into frames; feed it chunks as they come. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { type: string; payload: Buffer }[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: { type: string; payload: Buffer }[] = [];
    let off = 0;
    while (this.pending.length - off >= 5) {
      const len = this.pending.readUInt32LE(off + 1);
      if (this.pending.length - off - 5 < len) break;
      frames.push({ type: String.fromCharCode(this.pending[off]!), payload: this.pending.subarray(off + 5, off + 5 + len) });
      off += 5 + len;
    }
    this.pending = this.pending.subarray(off);
    return frames;
  }
}

/** The 'R' payload: NUL-terminated start, pid, ppid, cwd, argc, argv…, then the environment. */
export function encodeRequest(r: ToolRequest): Buffer {
  const fields = [String(r.started), String(r.pid), String(r.ppid), r.cwd, String(r.argv.length), ...r.argv, ...Object.entries(r.env).map(([k, v]) => `${k}=${v}`)];
  return Buffer.from(fields.map((f) => `${f}\0`).join(''));
}

export function decodeRequest(payload: Buffer): ToolRequest | undefined {
  const fields = payload.toString('utf8').split('\0');
  fields.pop(); // after the last terminator
  const [started, pid, ppid, cwd, argc] = fields;
  const n = Number(argc);
  if (cwd === undefined || !Number.isInteger(n) || n < 0 || fields.length < 5 + n) return undefined;
  const env: Record<string, string> = {};
  for (const entry of fields.slice(5 + n)) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { started: Number(started), pid: Number(pid), ppid: Number(ppid), cwd, argv: fields.slice(5, 5 + n), env };
}
