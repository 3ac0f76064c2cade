/**
 * When crtosd takes its bus name (issue 10, item 7): only once its units are loaded, so calls made
 * the moment the name appears get the whole unit list; a crtosd whose unit files are refused still
 * takes it and reports why; READY=1 comes after the name.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { makeFixture, type Fixture } from '../engine/harness.js';
import { settled, until } from '../helpers/wait-for.js';
import { notifyReceiver, outputOf, startDaemon } from './run.js';
import { startPrivateBus, type PrivateBus } from '../dbus/helpers/private-bus.js';
import { WireConnection, WireError } from '../../src/dbus/wire/connection.js';
import type { WireMessage } from '../../src/dbus/wire/marshal.js';
import { CrtosClient } from '../../src/dbus/client.js';
import { BUS_NAME, MANAGER_IFACE, MANAGER_PATH } from '../../src/dbus/names.js';

const UNITS = ['crtos-link.network', 'crtos-net.link', 'hello.loader', 'ivshmem-net.driver', 'jailhouse.driver', 'jailhouse.hypervisor', 'nuttx.cell', 'nuttx.image', 'shadow.driver', 'shadow.link'];
const DBUS = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' };

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(): Promise<{ f: Fixture; bus: PrivateBus; conn: WireConnection }> {
  const f = await makeFixture();
  cleanups.push(() => f.cleanup());
  const bus = await startPrivateBus();
  cleanups.push(() => bus.stop());
  const conn = await WireConnection.open(bus.address);
  cleanups.push(() => conn.close());
  const rule = `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${BUS_NAME}'`;
  await conn.call({ ...DBUS, member: 'AddMatch', signature: 's', body: [rule] });
  return { f, bus, conn };
}

function daemon(f: Fixture, bus: PrivateBus, env: NodeJS.ProcessEnv = {}): ReturnType<typeof startDaemon> {
  const d = startDaemon(f, ['--bus', bus.address], env);
  cleanups.push(async () => {
    if (d.child.exitCode !== null || d.child.signalCode !== null) return;
    d.child.kill('SIGTERM');
    await d.exited;
  });
  return d;
}

/** Calls `fire` from inside the handler of the NameOwnerChanged that gives crtosd its name. */
function whenNameTaken<T>(conn: WireConnection, fire: () => T): Promise<T> {
  return new Promise((resolve) => {
    const onSignal = (msg: WireMessage) => {
      if (msg.member !== 'NameOwnerChanged' || msg.body[0] !== BUS_NAME || msg.body[2] === '') return;
      conn.off('signal', onSignal);
      resolve(fire());
    };
    conn.on('signal', onSignal);
  });
}

/** The stand-in for systemd's $NOTIFY_SOCKET, stopped after the test. */
async function notifier(dir: string): ReturnType<typeof notifyReceiver> {
  const notify = await notifyReceiver(dir);
  cleanups.push(notify.stop);
  return notify;
}

/** Waits for READY=1, failing with the notifications and the daemon's output. */
function ready(notify: Awaited<ReturnType<typeof notifyReceiver>>, d: ReturnType<typeof startDaemon>): Promise<void> {
  return until('READY=1', () => notify.messages().includes('READY=1'), { sources: [...notify.sources, ...outputOf(d.child)], timeoutMs: 20_000, detail: () => `notifications: ${notify.messages()}\n${d.output()}` });
}

describe('crtosd takes its bus name once its units are loaded', () => {
  test('200 calls fired the moment the name appears all see every unit', async () => {
    const { f, bus, conn } = await setup();
    // dbus-daemon lets one connection wait for at most 128 replies: 8 clients, 25 calls each.
    const clients = await Promise.all(Array.from({ length: 8 }, () => WireConnection.open(bus.address)));
    cleanups.push(() => clients.forEach((c) => c.close()));
    const call = (i: number) => {
      const spec = { destination: BUS_NAME, path: MANAGER_PATH, interface: MANAGER_IFACE };
      const client = clients[i % clients.length]!;
      return i % 2 === 0 ? client.call({ ...spec, member: 'ListUnits' }) : client.call({ ...spec, member: 'GetUnit', signature: 's', body: ['nuttx.cell'] });
    };
    const answered = whenNameTaken(conn, () => Promise.allSettled(Array.from({ length: 200 }, (_, i) => call(i))));
    const d = daemon(f, bus);
    const results = await settled('crtosd to take its name and answer', answered, { timeoutMs: 20_000, detail: d.output });

    const wrong: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'rejected') wrong.push(`${i % 2 === 0 ? 'ListUnits' : 'GetUnit'}: ${r.reason instanceof WireError ? r.reason.message : String(r.reason)}`);
      else if (i % 2 === 0) {
        const ids = (r.value[0] as unknown[][]).map((row) => String(row[0])).sort();
        if (ids.join() !== UNITS.join()) wrong.push(`ListUnits: [${ids.join(', ')}]`);
      } else if (r.value[0] !== '/org/crtos/unit/nuttx_2ecell') wrong.push(`GetUnit: ${String(r.value[0])}`);
    });
    expect(wrong, d.output()).toEqual([]);
  });

  test('with unit files refused at start it still takes the name, reports the errors, then READY=1', async () => {
    const { f, bus, conn } = await setup();
    f.writeUnit('broken.yaml', 'kind: Loader\nname: broken\n');
    const notify = await notifier(f.dir);
    const answered = whenNameTaken(conn, async () => {
      const client = await CrtosClient.connect(bus.address);
      try {
        return { daemon: await client.daemon(), units: await client.listUnits() };
      } finally {
        client.close();
      }
    });
    const d = daemon(f, bus, { NOTIFY_SOCKET: notify.socket });
    const { daemon: status, units } = await settled('crtosd to take its name', answered, { timeoutMs: 20_000, detail: d.output });
    expect(units).toEqual([]);
    expect(status.lastLoadErrors.length).toBeGreaterThan(0);
    expect(status.lastLoadErrors.some((p) => p.file?.endsWith('broken.yaml') && p.unit === 'broken.loader'), JSON.stringify(status.lastLoadErrors)).toBe(true);

    // READY=1 is sent once the name is taken: asked after READY=1, the bus names an owner.
    await ready(notify, d);
    const [owner] = await conn.call({ ...DBUS, member: 'GetNameOwner', signature: 's', body: [BUS_NAME] });
    expect(String(owner)).toMatch(/^:/);
    expect((await f.ops()).filter((o) => !o.startsWith('loader'))).toEqual([]);
  });

  test('READY=1 comes after the name with the units brought up', async () => {
    const { f, bus, conn } = await setup();
    const notify = await notifier(f.dir);
    const taken = whenNameTaken(conn, () => notify.messages());
    const d = daemon(f, bus, { NOTIFY_SOCKET: notify.socket });
    // When the name appears the bring-up has only begun: READY=1 has not been sent yet.
    expect(await settled('crtosd to take its name', taken, { timeoutMs: 20_000, detail: d.output })).not.toContain('READY=1');
    await ready(notify, d);
    expect(notify.messages()).toMatch(/READY=1 STATUS=10 units: 10 active/);
    const [owner] = await conn.call({ ...DBUS, member: 'GetNameOwner', signature: 's', body: [BUS_NAME] });
    expect(String(owner)).toMatch(/^:/);
  });
});
