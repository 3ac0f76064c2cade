/**
 * A running cell, as seen from Linux: a detached process that lives while its cell is `running`.
 * It listens on the cell's readiness endpoint (the sRTOS daemon's TCP port, moved to loopback),
 * closes every connection when the cell stops (so a connected loader notices), and sets the cell
 * to `failed` when a cell failure is scheduled in faults.json. SIGUSR2 hangs it (hangRunner): the
 * cell stays `running` but accepts no connection and answers nothing, as an RTOS that locked up.
 */
import { createServer, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineDescription } from './description.js';
import type { SimCell } from './state.js';
import { appendLog, readDescription, readState, updateState, writeAtomic } from './store.js';
import { modeOf, statisticsFiles } from './render.js';
import { STATISTICS_REFRESH_MS } from './statistics.js';
import { readFaults, takeCellFailure, type SimCellFailure } from './faults.js';
import { failCell } from './jailhouse-driver.js';

const POLL_MS = 40;

export async function runCellRunner(dir: string, name: string, token: string): Promise<number> {
  const registered = updateState(dir, (state) => {
    const cell = state.jailhouse.cells.find((c) => c.name === name);
    if (!cell || cell.runToken !== token) return false;
    cell.runnerPid = process.pid;
    return true;
  });
  if (!registered) return 0;
  const d = readDescription(dir);
  const endpoint = d.readiness.find((r) => r.cell === name);
  const sockets = new Set<Socket>();
  let hung = false;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // The cRTOS daemon answers PING with PONG; a line protocol is enough for the stand-in loader.
    socket.on('data', (data) => {
      if (!hung && data.toString().includes('PING')) socket.write('PONG\n');
    });
  });
  process.on('SIGUSR2', () => {
    if (hung) return;
    // Connections already made stay open (nothing closes them in a hung guest); new ones are refused.
    hung = true;
    server.close();
    appendLog(dir, { op: 'cell hung', args: [name], result: 'ok', detail: { by: 'hangRunner' } });
  });
  if (endpoint) {
    await new Promise<void>((resolve) => {
      server.once('error', (e) => {
        appendLog(dir, { op: 'jailhouse cell start', args: [name], result: (e as NodeJS.ErrnoException).code ?? 'error', detail: { readiness: `${endpoint.host}:${endpoint.port}`, message: e.message } });
        resolve();
      });
      server.listen(endpoint.port, endpoint.host, () => resolve());
    });
  }
  let lastRefresh = 0;
  /** The exit counters grow while the cell runs: rewritten here, the cell's files only. */
  const refreshStatistics = (root: string, cell: SimCell, description: MachineDescription) => {
    const now = Date.now();
    if (now - lastRefresh < STATISTICS_REFRESH_MS) return;
    lastRefresh = now;
    for (const [rel, content] of Object.entries(statisticsFiles(cell, description, now))) {
      try {
        writeAtomic(join(root, rel), content ?? '', modeOf(rel));
      } catch {
        // The cell's directory went (a destroy): nothing to count any more.
      }
    }
  };
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    for (const s of sockets) s.destroy();
    server.close();
    setTimeout(() => process.exit(code), 10).unref();
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  const timer = setInterval(() => {
    if (!existsSync(dir)) return stop(0);
    let state;
    try {
      state = readState(dir);
    } catch {
      return stop(0);
    }
    const cell = state.jailhouse.cells.find((c) => c.name === name);
    if (!cell || cell.runToken !== token || (cell.state !== 'running' && cell.state !== 'running/locked')) return stop(0);
    const startedAt = cell.startedAt ?? 0;
    refreshStatistics(dir, cell, d);
    const isDue = (f: SimCellFailure) => {
      if (f.cell !== name || f.atStart) return false;
      // A failure at a wall-clock time hits the run that was going at that time, not later restarts.
      if (f.at !== undefined) return startedAt <= f.at && Date.now() >= f.at;
      return Date.now() >= startedAt + (f.afterStartMs ?? 0);
    };
    if (!readFaults(dir).cellFailures.some(isDue)) return;
    // Taken (one of its `times` used) only when it fires.
    const failure = takeCellFailure(dir, isDue);
    if (!failure) return;
    const failed = updateState(dir, (s) => failCell(s, name, token));
    if (failed) appendLog(dir, { op: 'cell failed', args: [name], result: 'failed', detail: { scheduled: failure } });
    stop(0);
  }, POLL_MS);
  return new Promise<number>(() => undefined);
}
