/**
 * Which bus to talk to. `system` (the default) means the system bus, found the way libdbus finds
 * it: DBUS_SYSTEM_BUS_ADDRESS, else the well-known socket. Anything else is a D-Bus address
 * (`unix:path=/run/x/bus`); a bare absolute path is accepted as a socket path for convenience.
 */
export const DEFAULT_SYSTEM_BUS = 'unix:path=/run/dbus/system_bus_socket';

export function resolveBusAddress(requested: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const wanted = requested ?? env.CRTOS_BUS_ADDRESS ?? 'system';
  if (wanted === '' || wanted === 'system') return env.DBUS_SYSTEM_BUS_ADDRESS || DEFAULT_SYSTEM_BUS;
  if (wanted.startsWith('/')) return `unix:path=${wanted}`;
  return wanted;
}
