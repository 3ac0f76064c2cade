/**
 * crtosd's D-Bus side. The daemon calls startDbusService(); crtosctl uses the client (client.ts).
 * dbus-next stays behind this directory.
 */
import type { Logger } from 'pino';
import dbus from 'dbus-next';
import type { ManagerApi } from '../engine/manager-api.js';
import { resolveBusAddress } from './bus-address.js';
import { connectBus } from './connect.js';
import { resolveGroupId } from './access.js';
import { DbusService } from './service.js';
import { BUS_NAME } from './names.js';
import { ProblemError, problem } from '../errors/problem.js';

export interface DbusServiceOptions {
  /** 'system' (default) or a D-Bus address such as `unix:path=/run/x/bus`. */
  busAddress?: string;
  /** Group (name or gid) whose members may start, stop, restart and reload besides root. */
  adminGroup?: string;
  logger?: Logger;
}

export interface DbusServiceHandle {
  close(): Promise<void>;
}

export async function startDbusService(manager: ManagerApi, opts: DbusServiceOptions = {}): Promise<DbusServiceHandle> {
  const address = resolveBusAddress(opts.busAddress ?? 'system', {});
  const adminGid = opts.adminGroup ? resolveGroupId(opts.adminGroup) : undefined;
  if (opts.adminGroup && adminGid === undefined) {
    opts.logger?.warn({ group: opts.adminGroup }, 'D-Bus: admin group not found; only root may change state');
  }
  const bus = await connectBus(address).catch((e: unknown) => {
    throw new ProblemError(problem('API_BUS_UNREACHABLE', e instanceof Error ? e.message : String(e), { hint: 'start a bus or pass --bus ADDRESS' }));
  });
  const service = new DbusService(bus, manager, { adminGid, adminGroupName: opts.adminGroup, logger: opts.logger });
  service.attach();
  try {
    const reply = await bus.requestName(BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE);
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) {
      throw new Error(`${BUS_NAME} is already owned on ${address} (another crtosd?)`);
    }
  } catch (e) {
    service.detach();
    bus.disconnect();
    const why = e instanceof Error ? e.message : String(e);
    throw new ProblemError(
      problem('API_NAME_TAKEN', `cannot own ${BUS_NAME} on ${address}: ${why}`, {
        hint: 'stop the other crtosd, or check that the bus policy lets this user own the name',
      }),
    );
  }
  opts.logger?.info({ address, name: BUS_NAME }, 'D-Bus: service ready');
  return {
    async close() {
      service.detach();
      try {
        await bus.releaseName(BUS_NAME);
      } catch {
        // The bus may already be gone; disconnecting is all that is left.
      }
      bus.disconnect();
    },
  };
}

export { resolveBusAddress } from './bus-address.js';
export { busLabelEscape, busLabelUnescape, unitObjectPath } from './object-path.js';
export { BUS_NAME, MANAGER_PATH } from './names.js';
