import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import dbus from 'dbus-next';
import type { Message, MessageBus } from 'dbus-next';
import { startDbusService, type DbusServiceHandle } from '../../src/dbus/index.js';
import { DbusService } from '../../src/dbus/service.js';
import { nextTurn } from '../../src/lib/turns.js';
import { startPrivateBus, type PrivateBus } from './helpers/private-bus.js';
import { FakeManager, makeUnit } from './helpers/fake-manager.js';
import { asNobody, run } from './helpers/run.js';
import { dataOf, eventsOf, until } from '../helpers/wait-for.js';

const DEST = 'org.crtos.Manager1';
const MGR = '/org/crtos/Manager1';
const ADMIN_GID = 4242;

let bus: PrivateBus;
let manager: FakeManager;
let service: DbusServiceHandle;
const busctl = (...args: string[]) => run('busctl', [`--address=${bus.address}`, '--no-pager', ...args]);

beforeAll(async () => {
  bus = await startPrivateBus();
  manager = new FakeManager(undefined, { failing: ['hello.loader'] });
  manager.units.set('explode.driver', makeUnit('explode.driver', { kind: 'Driver', module: 'x', parameters: {}, loaded: false }));
  service = await startDbusService(manager, { busAddress: bus.address, adminGroup: String(ADMIN_GID) });
});
afterAll(async () => {
  await service?.close();
  await bus?.stop();
});

describe('introspection (busctl)', () => {
  it('lists the manager methods, signals and properties with their signatures', async () => {
    const r = await busctl('introspect', DEST, MGR, 'org.crtos.Manager1');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\.ListUnits\s+method\s+-\s+a\(ssssssouso\)/);
    expect(r.stdout).toMatch(/\.StartUnit\s+method\s+ss\s+o/);
    expect(r.stdout).toMatch(/\.JobRemoved\s+signal\s+uoss/);
    expect(r.stdout).toMatch(/\.Version\s+property\s+s\s+"0\.1\.0-test"\s+const/);
  });

  it('walks the tree down to one object per unit, with systemd path escaping', async () => {
    const r = await busctl('tree', DEST);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('/org/crtos/unit/nuttx_2ecell');
    expect(r.stdout).toContain('/org/crtos/unit/crtos_2dlink_2enetwork');
  });

  it('gives a unit object the Unit1 and its kind interface', async () => {
    const r = await busctl('introspect', DEST, '/org/crtos/unit/nuttx_2ecell');
    expect(r.stdout).toMatch(/org\.crtos\.Unit1\s+interface/);
    expect(r.stdout).toMatch(/org\.crtos\.Cell1\s+interface/);
    expect(r.stdout).toMatch(/\.ConfigPath\s+property\s+s\s+"\/etc\/jailhouse\/nuttx\.cell"/);
    expect(r.stdout).not.toMatch(/org\.crtos\.Loader1/);
  });
});

describe('calls (busctl)', () => {
  it('ListUnits returns systemd-shaped rows', async () => {
    const r = await busctl('--json=short', 'call', DEST, MGR, 'org.crtos.Manager1', 'ListUnits');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout).data[0] as unknown[][];
    const cell = rows.find((x) => x[0] === 'nuttx.cell');
    expect(cell).toEqual(['nuttx.cell', 'NuttX real-time cell', 'loaded', 'inactive', 'dead', '', '/org/crtos/unit/nuttx_2ecell', 0, '', '/']);
    expect(rows).toHaveLength(manager.units.size);
  });

  it('reads properties of a unit and its kind interface', async () => {
    expect((await busctl('get-property', DEST, '/org/crtos/unit/jailhouse_2ehypervisor', 'org.crtos.Unit1', 'ActiveState')).stdout.trim()).toBe('s "active"');
    expect((await busctl('get-property', DEST, '/org/crtos/unit/shadow_2edriver', 'org.crtos.Driver1', 'Parameters')).stdout.trim()).toBe('a{ss} 1 "debug" "1"');
  });

  it('GetUnit of an unknown unit is NoSuchUnit', async () => {
    const r = await busctl('call', DEST, MGR, 'org.crtos.Manager1', 'GetUnit', 's', 'nope.cell');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Unit nope.cell not loaded');
  });

  it('rejects a wrong signature and an unknown job mode with InvalidArgs', async () => {
    const sig = await busctl('call', DEST, MGR, 'org.crtos.Manager1', 'GetUnit', 'u', '5');
    expect(sig.stderr).toContain("Invalid arguments 'u'");
    const mode = await busctl('call', DEST, MGR, 'org.crtos.Manager1', 'StartUnit', 'ss', 'nuttx.cell', 'isolate');
    expect(mode.stderr).toContain("Job mode 'isolate' is not supported");
  });

  it('never puts a stack trace into an error reply', async () => {
    const r = await busctl('call', DEST, MGR, 'org.crtos.Manager1', 'GetUnitLog', 'su', 'explode.driver', '5');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('internal error');
    expect(r.stderr).not.toMatch(/boom|\bat .*\.(ts|js|mjs):\d+/);
  });

  it('answers calls on paths it does not have with UnknownObject', async () => {
    const r = await busctl('call', DEST, '/org/crtos/unit/nope_2ecell', 'org.crtos.Unit1', 'Start', 's', 'replace');
    expect(r.stderr).toContain("Unknown object '/org/crtos/unit/nope_2ecell'");
  });
});

describe('state changes', () => {
  it('announces PropertiesChanged while a unit starts, seen by gdbus monitor', async () => {
    const monitor = spawn('gdbus', ['monitor', '--address', bus.address, '--dest', DEST, '--object-path', '/org/crtos/unit/nuttx_2ecell'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    monitor.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await shown(monitor, () => out, 'Monitoring signals');
      const r = await busctl('call', DEST, MGR, 'org.crtos.Manager1', 'StartUnit', 'ss', 'nuttx.cell', 'replace');
      expect(r.stdout.trim()).toMatch(/^o "\/org\/crtos\/job\/\d+"$/);
      await shown(monitor, () => out, /'ActiveState': <'active'>/);
      expect(out).toMatch(/org\.freedesktop\.DBus\.Properties\.PropertiesChanged \('org\.crtos\.Unit1', \{[^}]*'ActiveState': <'activating'>/);
      expect(out).toMatch(/'SubState': <'running'>/);
    } finally {
      monitor.kill();
    }
  });

  it('emits JobRemoved with the job result', async () => {
    const monitor = spawn('gdbus', ['monitor', '--address', bus.address, '--dest', DEST, '--object-path', MGR], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    monitor.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await shown(monitor, () => out, 'Monitoring signals');
      await busctl('call', DEST, MGR, 'org.crtos.Manager1', 'StartUnit', 'ss', 'hello.loader', 'replace');
      // Its own JobRemoved: one of a job an earlier test started may still come meanwhile.
      await shown(monitor, () => out, /JobRemoved \(uint32 \d+, objectpath '\/org\/crtos\/job\/\d+', 'hello\.loader', 'failed'\)/);
      expect(out).toMatch(/JobNew/);
    } finally {
      monitor.kill();
    }
  });
});

describe('access control on caller credentials', () => {
  it('lets any user read', async () => {
    const [cmd, args] = asNobody('busctl', [`--address=${bus.address}`, 'call', DEST, MGR, 'org.crtos.Manager1', 'ListUnits']);
    const r = await run(cmd, args);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nuttx.cell');
  });

  it('refuses StartUnit and Reload to a user outside the admin group with AccessDenied', async () => {
    const before = manager.calls.length;
    for (const call of [['StartUnit', 'shadow.driver', 'replace'], ['Reload']]) {
      const [member, ...rest] = call as [string, ...string[]];
      const [cmd, args] = asNobody('gdbus', ['call', '--address', bus.address, '--dest', DEST, '--object-path', MGR, '--method', `org.crtos.Manager1.${member}`, ...rest]);
      const r = await run(cmd, args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('org.freedesktop.DBus.Error.AccessDenied');
      expect(r.stderr).toMatch(/needs root or membership of group '4242'; refused for uid 65534/);
    }
    expect(manager.calls.length).toBe(before);
  });

  it('allows a member of the admin group', async () => {
    const [cmd, args] = asNobody('busctl', [`--address=${bus.address}`, 'call', DEST, MGR, 'org.crtos.Manager1', 'StopUnit', 'ss', 'shadow.driver', 'replace'], [ADMIN_GID]);
    const r = await run(cmd, args);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^o "\/org\/crtos\/job\/\d+"/);
    expect(manager.calls).toContain('stop shadow.driver');
  });
});

/** A bus that hands the service's handler to the test and records what the service sends. */
function recordingBus() {
  let handler: ((m: Message) => boolean) | undefined;
  const sent: Message[] = [];
  const bus = {
    addMethodHandler: (h: (m: Message) => boolean) => void (handler = h),
    removeMethodHandler: () => void (handler = undefined),
    send: (m: Message) => void sent.push(m),
  };
  return { bus: bus as unknown as MessageBus, sent, deliver: (m: Message) => handler!(m) };
}
/** A DbusService over a FakeManager on a recording bus, attached. */
function attachedService() {
  const { bus, sent, deliver } = recordingBus();
  const manager = new FakeManager();
  const service = new DbusService(bus, manager, {});
  service.attach();
  return { manager, service, sent, deliver };
}

describe('signals of a burst of changes', () => {
  const cellPath = '/org/crtos/unit/nuttx_2ecell';
  const activeStates = (sent: Message[]) =>
    sent.filter((m) => m.member === 'PropertiesChanged' && m.path === cellPath).map((m) => ((m.body[1] as Record<string, { value: unknown }>).ActiveState?.value));

  it("announces a unit that changed several times in one turn once, with its last state, when the loop turns", async () => {
    const { manager, service, sent } = attachedService();
    manager.setUnit('nuttx.cell', { activeState: 'activating', subState: 'start' });
    manager.setUnit('nuttx.cell', { activeState: 'active', subState: 'running' });
    expect(sent).toHaveLength(0);
    await nextTurn();
    expect(activeStates(sent)).toEqual(['active']);
    service.detach();
  });

  it('sends a unit\'s new state after the JobNew and before the JobRemoved of the job that made it, when the loop turns', async () => {
    const { manager, service, sent } = attachedService();
    const job = { id: 7, unit: 'nuttx.cell', type: 'start' as const, state: 'running' as const };
    manager.emit('jobNew', job);
    manager.setUnit('nuttx.cell', { activeState: 'active', subState: 'running' });
    manager.emit('jobRemoved', job, 'done');
    expect(sent).toHaveLength(0);
    await nextTurn();
    const order = sent.map((m) => `${m.member} ${m.path}`);
    expect(order.indexOf(`PropertiesChanged ${cellPath}`)).toBeGreaterThan(order.indexOf('JobNew /org/crtos/Manager1'));
    expect(order.indexOf(`PropertiesChanged ${cellPath}`)).toBeLessThan(order.indexOf('JobRemoved /org/crtos/Manager1'));
    service.detach();
  });

  it('sends nothing after it detached', async () => {
    const { manager, service, sent } = attachedService();
    manager.setUnit('nuttx.cell', { activeState: 'active', subState: 'running' });
    service.detach();
    await nextTurn();
    expect(sent).toHaveLength(0);
  });
});

describe('a burst of calls', () => {
  const getAll = (serial: number) =>
    new dbus.Message({ type: dbus.MessageType.METHOD_CALL, serial, sender: ':1.9', path: '/org/crtos/unit/nuttx_2ecell', interface: 'org.freedesktop.DBus.Properties', member: 'GetAll', signature: 's', body: ['org.crtos.Unit1'] });

  it('is answered in order over several turns of the event loop, not in one', async () => {
    const { service, sent, deliver } = attachedService();
    const calls = 1000;
    for (let serial = 1; serial <= calls; serial++) expect(deliver(getAll(serial))).toBe(true);
    // As dbus-next hands over every message of one chunk read from the socket: none answered yet.
    expect(sent).toHaveLength(0);
    const answeredPerTurn: number[] = [];
    while (sent.length < calls) {
      const before = sent.length;
      await new Promise((r) => setImmediate(r));
      answeredPerTurn.push(sent.length - before);
    }
    // 1000 reads take far longer than one slice on any machine: other work got turns in between.
    expect(answeredPerTurn.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(sent.map((m) => m.replySerial)).toEqual(Array.from({ length: calls }, (_, i) => i + 1));
    expect(sent.every((m) => m.type === dbus.MessageType.METHOD_RETURN)).toBe(true);
    service.detach();
  });

  it('is dropped, unanswered, when the service detaches meanwhile', async () => {
    const { service, sent, deliver } = attachedService();
    deliver(getAll(1));
    service.detach();
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(0);
  });
});

/** Resolves once `monitor`'s output (`out()`) matches, re-checked on each chunk it prints; its exit first fails the wait. */
function shown(monitor: ChildProcess, out: () => string, match: string | RegExp, timeoutMs = 5000): Promise<void> {
  return until(
    `gdbus monitor to print ${String(match)}`,
    () => {
      if (typeof match === 'string' ? out().includes(match) : match.test(out())) return true;
      if (monitor.exitCode !== null || monitor.signalCode !== null) throw new Error(`gdbus monitor ended (${monitor.exitCode ?? monitor.signalCode}) before printing ${String(match)}:\n${out()}`);
      return false;
    },
    { sources: [dataOf(monitor.stdout), eventsOf(monitor, 'exit')], timeoutMs, detail: () => `its output:\n${out()}` },
  );
}
