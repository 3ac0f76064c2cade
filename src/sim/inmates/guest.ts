/**
 * One run of a cell's guest as Linux sees it: the sRTOS daemon's TCP endpoint (moved to loopback)
 * that answers PING with PONG. It closes every connection when the run ends, so a connected loader
 * notices; hung, it stays up but accepts and answers nothing, as an RTOS that locked up.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ReadinessEndpoint } from '../description.js';

export interface Guest {
  readonly cell: string;
  readonly token: string;
  /** Settles once the endpoint listens, or could not (or at once without one). */
  readonly ready: Promise<void>;
  /** Whether the guest hangs (hang() was called). */
  readonly hung: boolean;
  /** Stops accepting and answering; connections already made stay open, silent. Resolves once the endpoint is closed. */
  hang(): Promise<void>;
  /** Ends the run: the endpoint closes, every connection with it. Resolves once it is closed. */
  close(): Promise<void>;
}

/**
 * Starts serving `endpoint` (none: a cell without one, nothing to serve). `onListenError` gets
 * the error when the port cannot be had (the start is logged as failed by the caller).
 */
export function startGuest(cell: string, token: string, endpoint: ReadinessEndpoint | undefined, onListenError: (e: NodeJS.ErrnoException) => void): Guest {
  const sockets = new Set<Socket>();
  let hung = false;
  let server: Server | undefined;
  // Settles once the port is had or refused: a run ended before that must not open it after.
  let settled: Promise<void> = Promise.resolve();
  if (endpoint) {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      // The cRTOS daemon answers PING with PONG; a line protocol is enough for the stand-in loader.
      socket.on('data', (data) => {
        if (!hung && data.toString().includes('PING')) socket.write('PONG\n');
      });
    });
    const s = server;
    settled = new Promise<void>((resolve) => {
      s.once('listening', resolve);
      s.once('error', (e) => {
        onListenError(e as NodeJS.ErrnoException);
        resolve();
      });
    });
    server.listen(endpoint.port, endpoint.host);
  }
  const closeServer = async () => {
    await settled;
    await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
  };
  return {
    cell,
    token,
    ready: settled,
    get hung() {
      return hung;
    },
    hang() {
      hung = true;
      return closeServer();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await closeServer();
    },
  };
}
