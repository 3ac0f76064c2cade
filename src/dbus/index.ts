/**
 * crtosd's D-Bus side. The daemon calls startDbusService(); crtosctl uses the client (client.ts).
 * dbus-next stays behind this directory.
 *
 * crtosd starts early at boot, possibly before the system bus answers (dbus.service runs after
 * sysinit.target, its socket earlier): a bus that cannot be reached at start is retried in the
 * background, and a bus that goes away (dbus-daemon restarted) is reconnected to, so the cells
 * never wait for D-Bus and D-Bus catches up with them. Only a name owned by someone else fails.
 */
import type { Logger } from 'pino';
import dbus from 'dbus-next';
import type { MessageBus } from 'dbus-next';
import type { LogLine, ManagerApi } from '../engine/manager-api.js';
import { resolveBusAddress } from './bus-address.js';
import { connectBus } from './connect.js';
import { JOURNAL_READER_GROUPS, resolveGroupId } from './access.js';
import { DbusService } from './service.js';
import { BUS_NAME } from './names.js';
import { ProblemError, problem } from '../errors/problem.js';

export interface DbusServiceOptions {
  /** 'system' (default) or a D-Bus address such as `unix:path=/run/x/bus`. */
  busAddress?: string;
  /** Group (name or gid) whose members may start, stop, restart and reload besides root. */
  adminGroup?: string;
  logger?: Logger;
  /** crtosd's daemon-wide log lines, for GetLog (`crtosctl logs` without a unit). */
  daemonLog?: () => LogLine[];
  /** Milliseconds between reconnection attempts, doubling up to 30 s (default 1000). */
  retryMs?: number;
  /** The metrics in Prometheus's text format, for the Metrics method. */
  metrics?: () => string;
}

export interface DbusServiceHandle {
  close(): Promise<void>;
}

const MAX_RETRY_MS = 30_000;

class NameTaken extends Error {}

export async function startDbusService(manager: ManagerApi, opts: DbusServiceOptions = {}): Promise<DbusServiceHandle> {
  const address = resolveBusAddress(opts.busAddress ?? 'system', {});
  const adminGid = opts.adminGroup ? resolveGroupId(opts.adminGroup) : undefined;
  if (opts.adminGroup && adminGid === undefined) {
    opts.logger?.warn({ group: opts.adminGroup }, 'D-Bus: admin group not found; only root may change state');
  }
  const logReaderGids = [adminGid, ...JOURNAL_READER_GROUPS.map((g) => resolveGroupId(g))].filter((g): g is number => g !== undefined);
  const log = opts.logger;
  let current: { bus: MessageBus; service: DbusService } | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const attach = async (): Promise<void> => {
    const bus = await connectBus(address);
    const service = new DbusService(bus, manager, { adminGid, logReaderGids, adminGroupName: opts.adminGroup, logger: log, ...(opts.metrics ? { metrics: opts.metrics } : {}), ...(opts.daemonLog ? { daemonLog: opts.daemonLog } : {}) });
    service.attach();
    let reply: number;
    try {
      reply = await bus.requestName(BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE);
    } catch (e) {
      service.detach();
      bus.disconnect();
      throw new NameTaken(e instanceof Error ? e.message : String(e));
    }
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) {
      service.detach();
      bus.disconnect();
      throw new NameTaken(`${BUS_NAME} is already owned on ${address} (another crtosd?)`);
    }
    if (closed) {
      service.detach();
      bus.disconnect();
      return;
    }
    current = { bus, service };
    // dbus-next does not report a clean end of the stream on the bus object; watch the connection.
    const connection = (bus as unknown as { _connection?: { once(e: string, f: () => void): void } })._connection;
    connection?.once('end', () => lost(bus));
    bus.on('error', () => lost(bus));
    log?.info({ address, name: BUS_NAME }, 'D-Bus: service ready');
  };

  const lost = (bus: MessageBus): void => {
    if (closed || current?.bus !== bus) return;
    current.service.detach();
    current = undefined;
    log?.warn({ address }, 'D-Bus: lost the bus; reconnecting');
    schedule(opts.retryMs ?? 1000);
  };

  const schedule = (delay: number): void => {
    if (closed) return;
    retryTimer = setTimeout(() => {
      attach().catch((e: unknown) => {
        if (e instanceof NameTaken) {
          log?.error({ address, err: e.message }, `D-Bus: cannot own ${BUS_NAME}; not serving D-Bus`);
          return;
        }
        log?.debug({ address, err: e instanceof Error ? e.message : String(e) }, 'D-Bus: bus still unreachable');
        schedule(Math.min(delay * 2, MAX_RETRY_MS));
      });
    }, delay);
    retryTimer.unref?.();
  };

  try {
    await attach();
  } catch (e) {
    if (e instanceof NameTaken) {
      throw new ProblemError(
        problem('API_NAME_TAKEN', `cannot own ${BUS_NAME} on ${address}: ${e.message}`, {
          hint: 'stop the other crtosd, or check that the bus policy lets this user own the name',
        }),
      );
    }
    log?.warn({ address, err: e instanceof Error ? e.message : String(e) }, 'D-Bus: bus unreachable; serving D-Bus as soon as it answers');
    schedule(opts.retryMs ?? 1000);
  }

  return {
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const c = current;
      current = undefined;
      if (!c) return;
      c.service.detach();
      try {
        await c.bus.releaseName(BUS_NAME);
      } catch {
        // The bus may already be gone; disconnecting is all that is left.
      }
      c.bus.disconnect();
    },
  };
}

export { resolveBusAddress } from './bus-address.js';
export { busLabelEscape, busLabelUnescape, unitObjectPath } from './object-path.js';
export { BUS_NAME, MANAGER_PATH } from './names.js';
