/**
 * A running cell, as seen from Linux: a detached process that lives while its cell is `running`.
 * It listens on the cell's readiness endpoint (the sRTOS daemon's TCP port, moved to loopback),
 * closes every connection when the cell stops (so a connected loader notices), and sets the cell
 * to `failed` when a cell failure is scheduled in faults.json. SIGUSR2 hangs it (hangRunner): the
 * cell stays `running` but accepts no connection and answers nothing, as an RTOS that locked up.
 */
import { createServer, type Socket } from 'node:net';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import type { MachineDescription } from './description.js';
import type { SimCell } from './state.js';
import { appendLog, paths, readDescription, readState, updateHiddenState, updateState } from './store.js';
import { statisticsFiles } from './render.js';
import { counterWriter } from './counters.js';
import { STATISTICS_REFRESH_MS } from './statistics.js';
import { readFaults, takeCellFailure, type SimCellFailure } from './faults.js';
import { failCell } from './jailhouse-driver.js';

export async function runCellRunner(dir: string, name: string, token: string): Promise<number> {
  // The PID shows in no file: recorded without rendering the machine again.
  const registered = updateHiddenState(dir, (state) => {
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
  const writeCounters = counterWriter(dir);
  /** The exit counters grow while the cell runs: rewritten here, the cell's files only, those that moved. */
  const refreshStatistics = (cell: SimCell, description: MachineDescription) => {
    const now = Date.now();
    if (now - lastRefresh < STATISTICS_REFRESH_MS) return;
    lastRefresh = now;
    void writeCounters(statisticsFiles(cell, description, now));
  };
  let stopping = false;
  let failureTimer: NodeJS.Timeout | undefined;
  // The slow tick refreshes the exit counters and catches a run that ended unsignalled (a machine
  // removed under the runner); functions it calls are defined below, before its first turn.
  const tick = setInterval(() => {
    const cell = ownRun();
    if (!cell) return stop(0);
    refreshStatistics(cell, d);
  }, STATISTICS_REFRESH_MS);
  let watcher: FSWatcher | undefined;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    clearInterval(tick);
    clearTimeout(failureTimer);
    watcher?.close();
    for (const s of sockets) s.destroy();
    server.close();
    setTimeout(() => process.exit(code), 10).unref();
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));

  /** The cell as the machine has it, or undefined when this run is over (stopped, failed, restarted, machine gone). */
  const ownRun = (): SimCell | undefined => {
    if (!existsSync(dir)) return undefined;
    try {
      const cell = readState(dir).jailhouse.cells.find((c) => c.name === name);
      return cell && cell.runToken === token && (cell.state === 'running' || cell.state === 'running/locked') ? cell : undefined;
    } catch {
      return undefined;
    }
  };
  let startedAt = 0;
  const isDue = (f: SimCellFailure) => {
    const now = Date.now();
    if (f.cell !== name || f.atStart) return false;
    // A failure at a wall-clock time hits the run that was going at that time, not later restarts.
    if (f.at !== undefined) return startedAt <= f.at && now >= f.at;
    return now >= startedAt + (f.afterStartMs ?? 0);
  };
  /** When the next scheduled failure of this run is due (ms since the epoch), if one is. */
  const nextDue = (): number | undefined => {
    const times = readFaults(dir)
      .cellFailures.filter((f) => f.cell === name && !f.atStart && (f.at === undefined || startedAt <= f.at))
      .map((f) => f.at ?? startedAt + (f.afterStartMs ?? 0));
    return times.length ? Math.min(...times) : undefined;
  };
  const fireDueFailure = () => {
    if (stopping || !readFaults(dir).cellFailures.some(isDue)) return false;
    // Taken (one of its `times` used) only when it fires.
    const failure = takeCellFailure(dir, isDue);
    if (!failure) return false;
    const failed = updateState(dir, (s) => failCell(s, name, token));
    if (failed) appendLog(dir, { op: 'cell failed', args: [name], result: 'failed', detail: { scheduled: failure } });
    stop(0);
    return true;
  };
  /** A timer at the next scheduled failure: set again whenever faults.json changes. */
  const scheduleFailure = () => {
    clearTimeout(failureTimer);
    if (stopping || fireDueFailure()) return;
    let due: number | undefined;
    try {
      due = nextDue();
    } catch {
      return;
    }
    if (due !== undefined) failureTimer = setTimeout(scheduleFailure, Math.max(0, due - Date.now()));
  };

  // The runner reacts to events, not to a fast poll: a real inmate costs Linux nothing, and 32
  // runners each parsing the whole machine state every 40 ms took half a core of a 2-core machine
  // from the daemon under test. The driver signals the runner when its run ends (stopRunner);
  // faults.json is watched, and scheduled failures get a timer.
  try {
    watcher = watch(dir, (_event, file) => {
      if (file === basename(paths.faults(dir))) scheduleFailure();
    }).on('error', () => undefined);
  } catch {
    // No watch (the directory went): the tick stops the runner.
  }
  const first = ownRun();
  if (!first) stop(0);
  else {
    startedAt = first.startedAt ?? 0;
    scheduleFailure();
  }
  return new Promise<number>(() => undefined);
}
