/**
 * One tool server per simulated machine: answers the stand-in clients on DIR/.sim/tools.sock,
 * each request in a worker thread of its own (src/sim/server/worker.ts), so requests run
 * concurrently as the tools' processes did, a hang fault hangs its request only, and the driver
 * lock still serializes `jailhouse` ioctls. A client that goes away (killed by crtosd's timeout)
 * ends its request at once: its worker is terminated wherever it is, as the tool's process was.
 * Started by the first client (`node dist/crtos-sim-tool.mjs serve DIR`); exits when idle for a
 * while or when the machine directory disappears.
 */
import { createServer, type Socket } from 'node:net';
import { existsSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { lockBellMemory, paths } from '../store.js';
import { startRootCounters } from '../counters.js';
import { toolBundlePath } from '../bundle.js';
import { FrameReader, decodeRequest, exitFrame, frame } from './protocol.js';
import type { WorkerJob, WorkerMessage, WorkerSetup } from './worker.js';

export const SOCKET_NAME = 'tools.sock';

export function serverSocketPath(dir: string): string {
  return join(dir, '.sim', SOCKET_NAME);
}

export interface ServeOptions {
  /** Exit after this long without a request in flight (CRTOS_SIM_SERVER_IDLE_MS; default 20 s). */
  idleMs?: number;
  /** How often to look whether the machine directory is still there. */
  checkMs?: number;
  /** Called once the socket listens (the entry tells the starting client on fd 3). */
  onListening?: () => void;
}

/**
 * Workers kept for the next requests: finished ones go back to the pool up to this many; when a
 * request takes the last one, a spare is started after it was dispatched (a worker costs a few ms
 * to start), so requests that come one after another never wait for one.
 */
const POOL_MAX = 4;

export async function serveTools(dir: string, options: ServeOptions = {}): Promise<void> {
  const idleMs = options.idleMs ?? (Number(process.env.CRTOS_SIM_SERVER_IDLE_MS) || 20_000);
  const bundle = toolBundlePath();
  const idle: Worker[] = [];
  const lockBells = lockBellMemory();
  let active = 0;
  let idleTimer: NodeJS.Timeout | undefined;

  const spawnWorker = () => {
    const w = new Worker(bundle, { argv: ['worker'], stdout: false, stderr: false, workerData: { lockBells } satisfies WorkerSetup });
    w.on('error', () => undefined);
    return w;
  };
  const keepWarm = () => {
    if (idle.length === 0) idle.push(spawnWorker());
  };
  const exit = () => {
    server.close();
    process.exit(0);
  };
  const armIdle = () => {
    clearTimeout(idleTimer);
    if (active === 0) idleTimer = setTimeout(exit, idleMs);
  };

  const handle = (socket: Socket) => {
    const reader = new FrameReader();
    let worker: Worker | undefined;
    let done = false;
    const finish = (w: Worker, reusable: boolean) => {
      if (done) return;
      done = true;
      active--;
      w.removeAllListeners('message');
      w.removeAllListeners('exit');
      if (reusable && idle.length < POOL_MAX) idle.push(w);
      else void w.terminate();
      armIdle();
    };
    socket.on('data', (chunk) => {
      for (const f of reader.push(chunk)) {
        if (f.type !== 'R' || worker) continue; // stdin ('I'): no stand-in reads it
        const request = decodeRequest(f.payload);
        if (!request) {
          socket.end(Buffer.concat([frame('E', 'crtos-sim-tool: malformed request\n'), exitFrame(2)]));
          return;
        }
        active++;
        clearTimeout(idleTimer);
        const w = idle.pop() ?? spawnWorker();
        worker = w;
        w.on('message', (m: WorkerMessage) => {
          if (m.t === 'X') {
            socket.end(exitFrame(m.code));
            finish(w, true);
          } else socket.write(frame(m.t, m.text));
        });
        w.on('exit', () => {
          socket.end(Buffer.concat([frame('E', 'crtos-sim-tool: the tool died\n'), exitFrame(1)]));
          finish(w, false);
        });
        w.postMessage({ request } satisfies WorkerJob);
        setImmediate(keepWarm);
      }
    });
    socket.on('error', () => undefined);
    // The client is gone (killed): end its request as its process would have ended.
    socket.on('close', () => {
      if (worker) finish(worker, false);
    });
  };

  const server = createServer(handle);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    // Relative to .sim/ (the entry's cwd): a machine directory of any length fits a socket address.
    server.listen(SOCKET_NAME, () => resolveListen());
  });
  keepWarm();
  armIdle();
  startRootCounters(dir);
  setInterval(() => {
    if (!existsSync(paths.description(dir))) exit();
  }, options.checkMs ?? 500);
  options.onListening?.();
}

/** Tells the client that started this server (on the pipe it left as fd 3) that it listens. */
export function tellStarter(): void {
  try {
    writeSync(3, 'r');
    closeSync(3);
  } catch {
    // Started by hand: nobody waits.
  }
}
