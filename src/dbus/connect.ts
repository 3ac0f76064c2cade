/**
 * Opening a bus connection with dbus-next, which stays behind src/dbus/. dbus-next reports a
 * failed connection only as an 'error' event (and may leave a rejected Hello behind), so this
 * turns both into one promise with a message that says which address failed.
 */
import dbus from 'dbus-next';
import type { MessageBus } from 'dbus-next';

export class BusConnectError extends Error {
  constructor(
    readonly address: string,
    cause: string,
  ) {
    super(`cannot connect to the bus at ${address}: ${cause}`);
    this.name = 'BusConnectError';
  }
}

export function connectBus(address: string, timeoutMs = 5000): Promise<MessageBus> {
  return new Promise((resolve, reject) => {
    let bus: MessageBus;
    try {
      bus = dbus.sessionBus({ busAddress: address, authMethods: ['EXTERNAL'] } as Parameters<typeof dbus.sessionBus>[0]);
    } catch (e) {
      reject(new BusConnectError(address, e instanceof Error ? e.message : String(e)));
      return;
    }
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: unknown): void => {
      clearTimeout(timer);
      bus.off('connect', ok);
      try {
        bus.disconnect();
      } catch {
        // already closed
      }
      reject(new BusConnectError(address, describe(err)));
    };
    const ok = (): void => {
      clearTimeout(timer);
      bus.off('error', fail);
      // Later stream errors (the daemon went away) must not crash the process as unhandled events.
      bus.on('error', () => undefined);
      resolve(bus);
    };
    bus.once('connect', ok);
    bus.once('error', fail);
  });
}

function describe(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && (err as { code?: unknown }).code === 'ENOENT') return 'no such socket';
  if (err && typeof err === 'object' && 'code' in err && (err as { code?: unknown }).code === 'ECONNREFUSED') return 'connection refused';
  if (err instanceof Error) return err.message;
  return String(err);
}
