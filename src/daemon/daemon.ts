/**
 * crtosd wiring: host, unit loading, state file, Manager, log, watch, signals, D-Bus and readiness
 * notification. SIGTERM/SIGINT leave cells and loaders as they are (unless --stop-on-exit): the
 * next crtosd adopts them.
 *
 * Start-up order: watch the unit directories, load the units, take the bus name, bring the machine
 * up, then READY=1. Like systemd, crtosd answers on the bus only once its units are loaded (a call
 * in between would get an empty ListUnits or "Unit … not loaded"); the bring-up itself is watched
 * over D-Bus as it happens.
 */
import { join, resolve } from 'node:path';
import { compactAfterBursts } from './compact.js';
import type { Logger } from 'pino';
import { createLinuxHost } from '../host/index.js';
import { loadUnits } from '../units/load.js';
import { Manager } from '../engine/manager.js';
import { fileStateStore } from '../engine/state-file.js';
import { DEFAULT_PERSISTENT_MASK_DIR, fileMaskStore } from '../engine/masks.js';
import type { DaemonStatus, UnitStatus } from '../engine/manager-api.js';
import { renderProblem } from '../errors/render.js';
import { isProblemError } from '../errors/problem.js';
import type { DaemonOptions } from './args.js';
import { createNotifier } from './notify.js';
import { watchUnitDirectories } from './watch.js';
import type { CrtosLog } from './logger.js';
import { renderMetrics } from '../metrics/render.js';
import { takeSnapshot } from '../metrics/snapshot.js';
import { startMetricsFile, type MetricsFile } from '../metrics/metrics-file.js';
import { codeUnitOrder } from '../lib/code-unit-order.js';

export const VERSION = '0.1.0';

export interface RunningDaemon {
  manager: Manager;
  /** Resolves with the exit code once the daemon has shut down. */
  done: Promise<number>;
}

export function summary(units: UnitStatus[]): string {
  const count = (s: string) => units.filter((u) => u.activeState === s).length;
  const failed = count('failed');
  return `${units.length} units: ${count('active')} active${failed ? `, ${failed} failed` : ''}${count('activating') ? `, ${count('activating')} activating` : ''}`;
}

/** `--once` output: one line per unit, systemctl list-units style. */
export function renderOnce(units: UnitStatus[]): string {
  const rows = [...units].sort((a, b) => codeUnitOrder(a.id, b.id));
  const w = Math.max(4, ...rows.map((u) => u.id.length));
  const lines = rows.map((u) => {
    const base = `${u.id.padEnd(w)}  ${u.activeState.padEnd(12)} ${u.subState.padEnd(12)} ${u.result}`;
    return u.lastError && u.activeState === 'failed' ? `${base}  ${u.lastError.message}` : base;
  });
  return `${'UNIT'.padEnd(w)}  ${'ACTIVE'.padEnd(12)} ${'SUB'.padEnd(12)} RESULT\n${lines.join('\n')}\n`;
}

/** What crtosd's log offers beyond the logger (logger.ts): its daemon-wide lines, and the journal for loaders' lines. */
export type DaemonLog = Pick<CrtosLog, 'recent' | 'loaderLine'>;

export async function runDaemon(o: DaemonOptions, logger: Logger, env: NodeJS.ProcessEnv = process.env, log?: DaemonLog): Promise<RunningDaemon> {
  const root = resolve(o.root);
  const stateDir = resolve(o.stateDir);
  const directories = o.units.map((d) => resolve(d));
  // Loaders re-adopted after a restart are watched by polling /proc: as often as cells are polled.
  const host = createLinuxHost({ root, env, exitPollMs: Math.max(250, o.pollIntervalMs || 1000) });
  let loads = 0;
  const manager = new Manager({
    host,
    loadUnits: () => loadUnits({ directories }).finally(() => loads++),
    store: fileStateStore(stateDir),
    // The default mask directory is the machine's /etc, so it lies under --root like every other
    // machine path: a daemon on a simulated machine (the demo, the tests) never reads or writes
    // the host's masks. An explicit --mask-dir is taken as given, as --state-dir is.
    masks: fileMaskStore({ persistent: o.maskDir === undefined ? join(root, DEFAULT_PERSISTENT_MASK_DIR) : resolve(o.maskDir), runtime: join(stateDir, 'mask') }),
    unitDirectories: directories,
    version: VERSION,
    pollIntervalMs: o.once ? 0 : o.pollIntervalMs,
    supervise: !o.once,
    loaderEnv: { PATH: env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    logDir: join(stateDir, 'logs'),
  });
  manager.on('log', (line) => {
    const fields = line.unit ? { unit: line.unit } : {};
    logger[line.level](fields, line.message);
  });
  if (log) manager.on('loaderOutput', (line) => log.loaderLine(line));
  // A one-shot run exits after its burst; a long-running one gives the burst's memory back.
  if (!o.once) compactAfterBursts(manager);
  // One rendering for the metrics file and the D-Bus Metrics method (`crtosctl metrics`).
  const metrics = (): string => renderMetrics(takeSnapshot(manager));
  const metricsFile = (): MetricsFile | undefined =>
    o.metricsFile === undefined
      ? undefined
      : startMetricsFile({
          host,
          path: resolve(o.metricsFile),
          render: metrics,
          changes: manager,
          failed: (p) => logger.error({ file: p.file }, `${p.message}; hint: ${p.hint}`),
          recovered: () => logger.info({ file: resolve(o.metricsFile!) }, 'metrics file written again'),
        });

  if (o.once) {
    const outcome = await manager.start();
    await manager.idle();
    await metricsFile()?.close();
    manager.close();
    for (const p of outcome.problems) process.stderr.write(`${renderProblem(p)}\n`);
    const units = manager.listUnits();
    process.stdout.write(renderOnce(units));
    const failed = !outcome.ok || units.some((u) => u.activeState === 'failed');
    return { manager, done: Promise.resolve(failed ? 1 : 0) };
  }

  const notifier = createNotifier(env);
  // Imported while the units load; the name is taken once they are.
  const dbusModule = o.bus ? import('../dbus/index.js') : undefined;
  dbusModule?.catch(() => undefined); // awaited (and reported) below

  logger.info({ units: directories, root, stateDir }, `crtosd ${VERSION} starting`);
  // Watch before the first load, so an edit made during start-up is not lost; it is applied after.
  let started = false;
  let changedDuringStart = false;
  const reloadWhenStarted = (message: string, fields: object = {}) => {
    if (started) {
      logger.info(fields, message);
      void manager.reload();
      return;
    }
    if (!changedDuringStart) logger.info(fields, `${message} once the bring-up is done`);
    changedDuringStart = true;
  };
  const watcher = watchUnitDirectories(directories, o.watchDebounceMs, (paths) => reloadWhenStarted('unit files changed; reloading', { paths }));
  // Node's default for SIGHUP is to exit: handled from the start, so one sent during the bring-up
  // (systemctl reload, a package's postinst) reloads after it instead of killing crtosd.
  process.on('SIGHUP', () => reloadWhenStarted('SIGHUP: reloading unit files'));
  await watcher.ready;
  const starting = manager.start();
  await unitsLoaded(manager, starting, () => loads > 0);
  // Once the units are known (the bring-up is watched as it happens, as over D-Bus).
  const metricsWriter = metricsFile();

  let dbus: { close(): Promise<void> } | undefined;
  if (dbusModule) {
    try {
      const { startDbusService } = await dbusModule;
      dbus = await startDbusService(manager, { busAddress: o.bus, ...(o.adminGroup ? { adminGroup: o.adminGroup } : {}), logger, metrics, ...(log ? { daemonLog: log.recent } : {}) });
    } catch (e) {
      const msg = isProblemError(e) ? e.problems.map((p) => renderProblem(p)).join('\n') : String(e);
      logger.error(`D-Bus service not started: ${msg}`);
    }
  }

  await starting;
  await manager.idle();
  started = true;
  if (changedDuringStart) void manager.reload();
  void notifier.send({ READY: '1', STATUS: summary(manager.listUnits()) });
  manager.on('daemonChanged', () => void notifier.send({ STATUS: summary(manager.listUnits()) }));

  let exiting = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  const shutdown = async (signal: string) => {
    if (exiting) return;
    exiting = true;
    logger.info(`${signal}: ${o.stopOnExit ? 'stopping every unit' : 'exiting; cells and loaders keep running'}`);
    await notifier.send({ STOPPING: '1' });
    await watcher.close();
    if (o.stopOnExit) await manager.stopAll();
    await metricsWriter?.close();
    manager.close();
    await dbus?.close().catch(() => undefined);
    resolveDone(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return { manager, done };
}

/**
 * Resolves once the first load of the unit files is decided, as far as the bus may tell: a set
 * accepted is installed (every unit of it listed, before any job runs); a set refused leaves
 * only what runs from an earlier crtosd, which the start's first pass observes, so then it waits
 * for the start (no job runs). `loaded` says whether the unit files were read yet: the Manager
 * announces the decision with the daemonChanged that follows.
 */
export function unitsLoaded(manager: Pick<Manager, 'on' | 'off'>, starting: Promise<unknown>, loaded: () => boolean): Promise<void> {
  let listener: ((d: DaemonStatus) => void) | undefined;
  const installed = new Promise<void>((resolve) => {
    listener = (d) => {
      if (loaded() && d.lastLoadErrors.length === 0) resolve();
    };
    manager.on('daemonChanged', listener);
  });
  return Promise.race([installed, starting.then(() => undefined)]).finally(() => manager.off('daemonChanged', listener!));
}
