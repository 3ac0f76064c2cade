/**
 * crtosd wiring: host, unit loading, state file, Manager, log, watch, signals, D-Bus and readiness
 * notification. SIGTERM/SIGINT leave cells and loaders as they are (unless --stop-on-exit): the
 * next crtosd adopts them.
 */
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createLinuxHost } from '../host/index.js';
import { loadUnits } from '../units/load.js';
import { Manager } from '../engine/manager.js';
import { fileStateStore } from '../engine/state-file.js';
import type { UnitStatus } from '../engine/manager-api.js';
import { renderProblem } from '../errors/render.js';
import { isProblemError } from '../errors/problem.js';
import type { DaemonOptions } from './args.js';
import { createNotifier } from './notify.js';
import { watchUnitDirectories } from './watch.js';

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
  const rows = [...units].sort((a, b) => a.id.localeCompare(b.id));
  const w = Math.max(4, ...rows.map((u) => u.id.length));
  const lines = rows.map((u) => {
    const base = `${u.id.padEnd(w)}  ${u.activeState.padEnd(12)} ${u.subState.padEnd(12)} ${u.result}`;
    return u.lastError && u.activeState === 'failed' ? `${base}  ${u.lastError.message}` : base;
  });
  return `${'UNIT'.padEnd(w)}  ${'ACTIVE'.padEnd(12)} ${'SUB'.padEnd(12)} RESULT\n${lines.join('\n')}\n`;
}

export async function runDaemon(o: DaemonOptions, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<RunningDaemon> {
  const root = resolve(o.root);
  const stateDir = resolve(o.stateDir);
  const directories = o.units.map((d) => resolve(d));
  // Loaders re-adopted after a restart are watched by polling /proc: as often as cells are polled.
  const host = createLinuxHost({ root, env, exitPollMs: Math.max(250, o.pollIntervalMs || 1000) });
  const manager = new Manager({
    host,
    loadUnits: () => loadUnits({ directories }),
    store: fileStateStore(stateDir),
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

  if (o.once) {
    const outcome = await manager.start();
    await manager.idle();
    manager.close();
    for (const p of outcome.problems) process.stderr.write(`${renderProblem(p)}\n`);
    const units = manager.listUnits();
    process.stdout.write(renderOnce(units));
    const failed = !outcome.ok || units.some((u) => u.activeState === 'failed');
    return { manager, done: Promise.resolve(failed ? 1 : 0) };
  }

  const notifier = createNotifier(env);
  let dbus: { close(): Promise<void> } | undefined;
  if (o.bus) {
    try {
      const { startDbusService } = await import('../dbus/index.js');
      dbus = await startDbusService(manager, { busAddress: o.bus, ...(o.adminGroup ? { adminGroup: o.adminGroup } : {}), logger });
    } catch (e) {
      const msg = isProblemError(e) ? e.problems.map((p) => renderProblem(p)).join('\n') : String(e);
      logger.error(`D-Bus service not started: ${msg}`);
    }
  }

  logger.info({ units: directories, root, stateDir }, `crtosd ${VERSION} starting`);
  // Watch before the first load, so an edit made during start-up is not lost; it is applied after.
  let started = false;
  let changedDuringStart = false;
  const watcher = watchUnitDirectories(directories, o.watchDebounceMs, (paths) => {
    if (!started) {
      changedDuringStart = true;
      return;
    }
    logger.info({ paths }, 'unit files changed; reloading');
    void manager.reload();
  });
  await watcher.ready;
  await manager.start();
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
    manager.close();
    await dbus?.close().catch(() => undefined);
    resolveDone(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading unit files');
    void manager.reload();
  });
  return { manager, done };
}
