// packaging/dbus/org.crtos.Manager1.conf in a dbus-daemon configured like the system bus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startDbusService, type DbusServiceHandle } from '../../src/dbus/index.js';
import { startPrivateBus, type PrivateBus } from '../dbus/helpers/private-bus.js';
import { FakeManager } from '../dbus/helpers/fake-manager.js';
import { asNobody, run } from '../dbus/helpers/run.js';
import { MANAGER, UNIT } from '../../src/dbus/schema.js';

const POLICY = fileURLToPath(new URL('../../packaging/dbus/org.crtos.Manager1.conf', import.meta.url));
const DEST = 'org.crtos.Manager1';
const MGR = '/org/crtos/Manager1';

let bus: PrivateBus;
let manager: FakeManager;
let service: DbusServiceHandle;

beforeAll(async () => {
  bus = await startPrivateBus({ policy: 'system', include: [POLICY] });
  manager = new FakeManager();
  service = await startDbusService(manager, { busAddress: bus.address, adminGroup: 'crtos' });
});
afterAll(async () => {
  await service?.close();
  await bus?.stop();
});

const busctlArgs = (...args: string[]): string[] => [`--address=${bus.address}`, '--no-pager', ...args];
const nobody = (...args: string[]) => {
  const [cmd, a] = asNobody('busctl', busctlArgs(...args));
  return run(cmd, a);
};

describe('the shipped bus policy', () => {
  it('lets a non-root user list units, read properties and introspect', async () => {
    const list = await nobody('call', DEST, MGR, 'org.crtos.Manager1', 'ListUnits');
    expect(list.stderr).toBe('');
    expect(list.stdout).toContain('"nuttx.cell"');
    const prop = await nobody('get-property', DEST, '/org/crtos/unit/nuttx_2ecell', 'org.crtos.Unit1', 'ActiveState');
    expect(prop.stdout.trim()).toBe('s "inactive"');
    const intro = await nobody('introspect', DEST, MGR);
    expect(intro.code).toBe(0);
  });

  it('refuses StartUnit and Reload to a non-root user at the bus', async () => {
    for (const call of [['StartUnit', 'nuttx.cell', 'replace'], ['Reload']]) {
      const [member, ...rest] = call as [string, ...string[]];
      const [cmd, a] = asNobody('gdbus', ['call', '--address', bus.address, '--dest', DEST, '--object-path', MGR, '--method', `org.crtos.Manager1.${member}`, ...rest]);
      const r = await run(cmd, a);
      expect(r.code).not.toBe(0);
      // Refused by dbus-daemon's policy, before crtosd sees the call.
      expect(r.stderr).toContain('org.freedesktop.DBus.Error.AccessDenied');
      expect(r.stderr).toMatch(/Rejected send message/);
    }
    expect(manager.calls).toEqual([]);
  });

  // The policy lists the calls everybody may make by name, so a read call added to the API must be
  // added there too: crtosctl logs, analyze and metrics were refused to every user but root and the
  // group crtos on a real system bus. Each call goes without its arguments: one the policy lets
  // through reaches crtosd, which refuses the arguments itself, never with the bus's words.
  it('lets a non-root user make every call that reads, and refuses every call that changes state or reads the logs at the bus', async () => {
    const calls = [
      ...MANAGER.methods.map((m) => ({ m, path: MGR, iface: MANAGER.name })),
      ...UNIT.methods.map((m) => ({ m, path: '/org/crtos/unit/nuttx_2ecell', iface: UNIT.name })),
    ];
    for (const { m, path, iface } of calls) {
      const [cmd, a] = asNobody('gdbus', ['call', '--address', bus.address, '--dest', DEST, '--object-path', path, '--method', `${iface}.${m.name}`]);
      const r = await run(cmd, a);
      expect(/Rejected send message/.test(r.stderr), `${iface}.${m.name} as nobody: ${r.stderr || 'answered'}`).toBe(m.privileged === true || m.readsLogs === true);
    }
    // Only the one call that takes no arguments and reaches the manager: nothing changed state.
    expect(manager.calls.splice(0)).toEqual(['planReload']);
  });

  it('allows root to start a unit', async () => {
    const r = await run('busctl', busctlArgs('call', DEST, MGR, 'org.crtos.Manager1', 'StartUnit', 'ss', 'nuttx.cell', 'replace'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^o "\/org\/crtos\/job\/\d+"/);
    expect(manager.calls).toEqual(['start nuttx.cell']);
  });

  it('keeps other users from owning the name', async () => {
    const [cmd, a] = asNobody('gdbus', ['call', '--address', bus.address, '--dest', 'org.freedesktop.DBus', '--object-path', '/org/freedesktop/DBus', '--method', 'org.freedesktop.DBus.RequestName', 'org.crtos.Manager1', '4']);
    const r = await run(cmd, a);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('AccessDenied');
  });
});
