/**
 * Who may change state: root, and members of the configured admin group. Decided on the caller's
 * credentials as the bus daemon reports them (GetConnectionCredentials, or GetConnectionUnixUser
 * on an old daemon), never on anything the caller sends. Reading is open to every local user.
 */
import dbus from 'dbus-next';
import type { MessageBus } from 'dbus-next';
import { readFileSync } from 'node:fs';

export interface CallerCredentials {
  uid: number;
  /** Supplementary and primary groups, when the bus daemon knows them. */
  gids: number[];
}

/** Root, or a member of one of these groups. */
export function mayCall(caller: CallerCredentials, gids: readonly number[]): boolean {
  return caller.uid === 0 || gids.some((g) => caller.gids.includes(g));
}

/** The groups besides crtosd's admin group whose members may read the units' logs, as journald lets them read the system journal. */
export const JOURNAL_READER_GROUPS = ['adm', 'systemd-journal'] as const;

/** The gid of a group given by name or number, from /etc/group text; undefined when unknown. */
export function groupIdFrom(group: string, etcGroup: string): number | undefined {
  if (/^[0-9]+$/.test(group)) return Number(group);
  for (const line of etcGroup.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^[0-9]+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

export function resolveGroupId(group: string, etcGroupPath = '/etc/group'): number | undefined {
  let text = '';
  try {
    text = readFileSync(etcGroupPath, 'utf8');
  } catch {
    // No group database: only a numeric group can be resolved.
  }
  return groupIdFrom(group, text);
}

const busDriverCall = (member: string, signature: string, body: unknown[]): InstanceType<typeof dbus.Message> =>
  new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member, signature, body });

export async function callerCredentials(bus: MessageBus, sender: string): Promise<CallerCredentials> {
  try {
    const reply = await bus.call(busDriverCall('GetConnectionCredentials', 's', [sender]));
    const dict = (reply?.body[0] ?? {}) as Record<string, { value: unknown }>;
    const uid = dict.UnixUserID?.value;
    const gids = dict.UnixGroupIDs?.value;
    if (typeof uid === 'number') return { uid, gids: Array.isArray(gids) ? gids.filter((g): g is number => typeof g === 'number') : [] };
  } catch {
    // Older bus daemons lack GetConnectionCredentials; fall back to the uid alone.
  }
  const reply = await bus.call(busDriverCall('GetConnectionUnixUser', 's', [sender]));
  const uid = reply?.body[0];
  if (typeof uid !== 'number') throw new Error(`the bus did not report the uid of ${sender}`);
  return { uid, gids: [] };
}
