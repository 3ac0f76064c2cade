/**
 * The inmate host: one detached process per simulated machine that stands for the guest of every
 * running cell (src/sim/inmates/guest.ts), moves their exit counters and fails them on schedule.
 *
 * One process for all, not one per cell: a real inmate runs on CPUs Linux gave away and costs it
 * nothing, but a Node.js process per run cost each `cell start` about 75 ms of CPU on Linux's
 * cores, and per second a parse of the machine state and its counters: 32 of them took 2.4 s of
 * CPU during the 32-cell bring-up benchmark, the largest share of the simulator's own load there.
 *
 * It serves what the machine state says: a cell that is `running` (or `running/locked`) with a
 * run token has a guest of that run, and nothing else does. It looks again when told (SIGWINCH,
 * whose default action is to do nothing, so a signal before its handler is harmless: the first
 * look comes after), when faults.json changes and once a second. Whoever waits for it to have
 * looked leaves a request file and waits for its removal (control.ts).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SimCell } from '../state.js';
import { INMATE_MARKER, appendLog, paths, readDescription, readState, updateState, withLock } from '../store.js';
import { statisticsFiles } from '../render.js';
import { counterWriter } from '../counters.js';
import { STATISTICS_REFRESH_MS } from '../statistics.js';
import { readFaults, takeCellFailure, type SimCellFailure } from '../faults.js';
import { failCell } from '../jailhouse-driver.js';
import { startGuest, type Guest } from './guest.js';

/** How long a host that serves nothing stays, so that a cell restarted at once finds it (CRTOS_SIM_INMATES_IDLE_MS). */
const DEFAULT_IDLE_EXIT_MS = 5000;

interface Run {
  guest: Guest;
  /** The cell as the state had it at the last look (its CPUs and start time for the counters). */
  cell: SimCell;
  writeCounters: ReturnType<typeof counterWriter>;
  failureTimer?: NodeJS.Timeout;
}

const isRunning = (c: SimCell) => (c.state === 'running' || c.state === 'running/locked') && c.runToken !== undefined;

export async function runInmateHost(dir: string): Promise<number> {
  const description = readDescription(dir);
  const idleExitMs = Number(process.env.CRTOS_SIM_INMATES_IDLE_MS) || DEFAULT_IDLE_EXIT_MS;
  const runs = new Map<string, Run>();
  let idleTimer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let stopping = false;

  const begin = (cell: SimCell) => {
    const endpoint = description.readiness.find((r) => r.cell === cell.name);
    const guest = startGuest(cell.name, cell.runToken!, endpoint, (e) =>
      appendLog(dir, { op: 'jailhouse cell start', args: [cell.name], result: e.code ?? 'error', detail: { readiness: `${endpoint!.host}:${endpoint!.port}`, message: e.message } }),
    );
    runs.set(cell.name, { guest, cell, writeCounters: counterWriter(dir) });
    // Said once it listens: whoever waits for the guest can then connect.
    void guest.ready.then(() => {
      if (runs.get(cell.name)?.guest === guest) writeFileSync(paths.inmateRun(dir, cell.name), guest.token);
    });
    scheduleFailure(cell.name);
  };

  const end = async (name: string) => {
    const run = runs.get(name);
    if (!run) return;
    runs.delete(name);
    clearTimeout(run.failureTimer);
    await run.guest.close();
    rmSync(paths.inmateRun(dir, name), { force: true });
    rmSync(paths.inmateHang(dir, name), { force: true });
  };

  /** One look: ends the runs the state no longer has, begins the new ones, applies hangs. */
  const look = async () => {
    const requestsDir = paths.inmateRequests(dir);
    const requests = existsSync(requestsDir) ? readdirSync(requestsDir) : [];
    let cells: SimCell[];
    try {
      cells = readState(dir).jailhouse.cells;
    } catch {
      // The machine went (the tick ends the host), or its state is being replaced: look again soon.
      return;
    }
    const wanted = new Map(cells.filter(isRunning).map((c) => [c.name, c]));
    await Promise.all(
      [...runs].map(async ([name, run]) => {
        const cell = wanted.get(name);
        if (cell?.runToken === run.guest.token) run.cell = cell;
        else await end(name);
      }),
    );
    for (const [name, cell] of wanted) if (!runs.has(name)) begin(cell);
    for (const [name, run] of runs) {
      if (run.guest.hung || !existsSync(paths.inmateHang(dir, name))) continue;
      await run.guest.hang();
      appendLog(dir, { op: 'cell hung', args: [name], result: 'ok', detail: { by: 'hangInmate' } });
    }
    for (const request of requests) rmSync(join(requestsDir, request), { force: true });
    clearTimeout(idleTimer);
    if (runs.size === 0) idleTimer = setTimeout(exitIfIdle, idleExitMs);
  };

  // Looks run one at a time; asked for during one, another follows it.
  let looking: Promise<void> | undefined;
  let again = false;
  const kick = (): Promise<void> => {
    if (looking) {
      again = true;
      return looking;
    }
    looking = (async () => {
      do {
        again = false;
        await look();
      } while (again && !stopping);
    })().finally(() => (looking = undefined));
    return looking;
  };

  /** Gone from the PID file under the launchers' lock, so that a launcher never signals a host that is leaving. */
  const exitIfIdle = () => {
    const leaving = withLock(dir, 'inmates', () => {
      if (runs.size > 0 || !existsSync(paths.description(dir))) return false;
      try {
        if (readState(dir).jailhouse.cells.some(isRunning)) return false;
      } catch {
        return false;
      }
      rmSync(paths.inmateHost(dir), { force: true });
      return true;
    });
    if (leaving) void shutdown();
    else void kick();
  };

  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(tick);
    clearTimeout(idleTimer);
    watcher?.close();
    await Promise.all([...runs.keys()].map(end));
    process.exit(0);
  };

  // Scheduled failures: a timer per run at its next one, set again whenever faults.json changes.
  const isDue = (run: Run, f: SimCellFailure, now: number) => {
    const startedAt = run.cell.startedAt ?? 0;
    if (f.cell !== run.cell.name || f.atStart) return false;
    // A failure at a wall-clock time hits the run that was going at that time, not later restarts.
    if (f.at !== undefined) return startedAt <= f.at && now >= f.at;
    return now >= startedAt + (f.afterStartMs ?? 0);
  };
  const nextDue = (run: Run, failures: SimCellFailure[]) => {
    const startedAt = run.cell.startedAt ?? 0;
    const times = failures.filter((f) => f.cell === run.cell.name && !f.atStart && (f.at === undefined || startedAt <= f.at)).map((f) => f.at ?? startedAt + (f.afterStartMs ?? 0));
    return times.length ? Math.min(...times) : undefined;
  };
  const fireDueFailure = (run: Run, failures: SimCellFailure[]) => {
    if (!failures.some((f) => isDue(run, f, Date.now()))) return false;
    // A frozen machine changes nothing (store.ts would wait forever, and every guest with it): the tick tries again.
    if (readState(dir).jailhouse.frozen) return false;
    // Taken (one of its `times` used) only when it fires.
    const failure = takeCellFailure(dir, (f) => isDue(run, f, Date.now()));
    if (!failure) return false;
    const { name } = run.cell;
    if (updateState(dir, (s) => failCell(s, name, run.guest.token))) appendLog(dir, { op: 'cell failed', args: [name], result: 'failed', detail: { scheduled: failure } });
    void kick();
    return true;
  };
  function scheduleFailure(name: string) {
    const run = runs.get(name);
    if (!run || stopping) return;
    clearTimeout(run.failureTimer);
    let failures: SimCellFailure[];
    try {
      failures = readFaults(dir).cellFailures;
      if (fireDueFailure(run, failures)) return;
    } catch {
      return; // The machine went.
    }
    const due = nextDue(run, failures);
    if (due !== undefined) run.failureTimer = setTimeout(() => scheduleFailure(name), Math.max(0, due - Date.now()));
  }

  // Once a second: the machine may have gone; a run may have ended unsaid; the counters move
  // (only those that did, after the look, so a run just ended gets none).
  const tick = setInterval(() => {
    if (!existsSync(paths.description(dir))) return void shutdown();
    void kick().then(() => {
      const now = Date.now();
      for (const [name, run] of runs) {
        void run.writeCounters(statisticsFiles(run.cell, description, now));
        scheduleFailure(name);
      }
    });
  }, STATISTICS_REFRESH_MS);
  process.on('SIGWINCH', () => void kick());
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  try {
    watcher = watch(dir, (_event, file) => {
      if (file === basename(paths.faults(dir))) for (const name of runs.keys()) scheduleFailure(name);
    }).on('error', () => undefined);
  } catch {
    // No watch (the directory went): the tick ends the host.
  }
  mkdirSync(paths.inmateRequests(dir), { recursive: true });
  // What a host killed before left: its runs are over (their sockets went with it).
  const simDir = dirname(paths.inmateHost(dir));
  for (const file of readdirSync(simDir)) if (INMATE_MARKER.test(file)) rmSync(join(simDir, file), { force: true });
  await kick();
  return new Promise<number>(() => undefined);
}
