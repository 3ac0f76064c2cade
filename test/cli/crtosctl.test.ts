// dist/crtosctl.cjs as users run it: exit codes through the real entry point, an unreachable
// daemon, a refused caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startDbusService, type DbusServiceHandle } from '../../src/dbus/index.js';
import { startPrivateBus, type PrivateBus } from '../dbus/helpers/private-bus.js';
import { FakeManager } from '../dbus/helpers/fake-manager.js';
import { asNobody, readableCopy, run } from '../dbus/helpers/run.js';

const CRTOSCTL = fileURLToPath(new URL('../../dist/crtosctl.cjs', import.meta.url));
/** What runs as `nobody` runs from a copy it can read, wherever the checkout is. */
const forNobody = readableCopy(fileURLToPath(new URL('../../dist', import.meta.url)));
const CRTOSCTL_FOR_NOBODY = `${forNobody.path}/crtosctl.cjs`;
let bus: PrivateBus;
let service: DbusServiceHandle;
let manager: FakeManager;

beforeAll(async () => {
  bus = await startPrivateBus();
  manager = new FakeManager();
  service = await startDbusService(manager, { busAddress: bus.address, adminGroup: '4242' });
});
afterAll(async () => {
  await service?.close();
  await bus?.stop();
  forNobody.cleanup();
});

const ctl = (...args: string[]) => run(process.execPath, [CRTOSCTL, ...args], { env: { ...process.env, CRTOS_BUS_ADDRESS: bus.address } });

describe('crtosctl (bundled)', () => {
  it('documents verbs and exit codes in --help', async () => {
    const r = await ctl('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Exit status:\n {2}0 +success/m);
    expect(r.stdout).toMatch(/^ {2}4 +no such unit/m);
    const verbHelp = await ctl('list-units', '--help');
    expect(verbHelp.stdout).toMatch(/--state=VALUE/);
  });

  it('exits 2 on bad usage', async () => {
    expect((await ctl('frobnicate')).code).toBe(2);
    expect((await ctl('is-active')).code).toBe(2);
  });

  it('maps is-active to 0, 3 and 4, and honours --bus before the verb', async () => {
    expect((await ctl('is-active', 'jailhouse.driver')).code).toBe(0);
    expect((await ctl('is-active', 'nuttx.cell')).code).toBe(3);
    expect((await ctl('is-active', 'nope.cell')).code).toBe(4);
    const r = await run(process.execPath, [CRTOSCTL, '--bus', bus.address, '--json', 'is-active', 'jailhouse.driver']);
    expect(JSON.parse(r.stdout)).toEqual([{ unit: 'jailhouse.driver', load: 'loaded', active: 'active' }]);
  });

  it('says when the bus or the daemon is not there, exit 1', async () => {
    const noBus = await run(process.execPath, [CRTOSCTL, '--bus', 'unix:path=/nonexistent/bus', 'status']);
    expect(noBus.code).toBe(1);
    expect(noBus.stderr).toContain('error[API_BUS_UNREACHABLE]: cannot connect to the bus at unix:path=/nonexistent/bus: no such socket');
    const other = await startPrivateBus();
    try {
      const noDaemon = await run(process.execPath, [CRTOSCTL, '--bus', other.address, 'list-units']);
      expect(noDaemon.code).toBe(1);
      expect(noDaemon.stderr).toContain('error[API_NO_DAEMON]: crtosd is not running on');
    } finally {
      await other.stop();
    }
  });

  it('tells a user outside the admin group that starting needs root, exit 4 as systemctl (LSB: insufficient privilege), nothing queued', async () => {
    const [cmd, args] = asNobody(process.execPath, [CRTOSCTL_FOR_NOBODY, '--bus', bus.address, 'start', 'nuttx.cell']);
    const r = await run(cmd, args);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("error[API_ACCESS_DENIED]: StartUnit refused: StartUnit needs root or membership of group '4242'; refused for uid 65534");
    expect(manager.calls).toEqual([]);
    const [rcmd, rargs] = asNobody(process.execPath, [CRTOSCTL_FOR_NOBODY, '--bus', bus.address, 'status', 'nuttx.cell']);
    const status = await run(rcmd, rargs);
    expect(status.code).toBe(3);
    // The status without its log lines, which are for root, the admin group, adm and systemd-journal.
    expect(status.stdout).toContain('nuttx.cell');
    expect(status.stderr).toContain("Hint: You are currently not seeing the units' log lines.");
  });

  it("refuses the units' log lines to a user outside the admin group and the journal readers' groups", async () => {
    const [cmd, args] = asNobody(process.execPath, [CRTOSCTL_FOR_NOBODY, '--bus', bus.address, 'logs', 'nuttx.cell']);
    const r = await run(cmd, args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/error\[API_ACCESS_DENIED\]: GetLog refused: GetLog needs root or membership of group '4242', 'adm' or 'systemd-journal'; refused for uid 65534/);
  });
});
