// `crtosctl metrics` as users run it (dist/crtosctl.cjs): what crtosd's Metrics method returns,
// printed as it is; usage errors; no daemon, or one without metrics. The daemon's own rendering is checked against its
// metrics file in test/metrics/node-exporter.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startDbusService, type DbusServiceHandle } from '../../../src/dbus/index.js';
import { startPrivateBus, type PrivateBus } from '../../dbus/helpers/private-bus.js';
import { FakeManager } from '../../dbus/helpers/fake-manager.js';
import { run } from '../../dbus/helpers/run.js';

const CRTOSCTL = fileURLToPath(new URL('../../../dist/crtosctl.cjs', import.meta.url));
/** Text with what a careless printer would change: an escaped quote, backslash and line feed, no final newline. */
const TEXT = '# HELP crtos_build_info crtosd build information.\n# TYPE crtos_build_info gauge\ncrtos_build_info{version="1\\"\\\\\\n"} 1';

let bus: PrivateBus;
let service: DbusServiceHandle;

beforeAll(async () => {
  bus = await startPrivateBus();
  service = await startDbusService(new FakeManager(), { busAddress: bus.address, metrics: () => TEXT });
});
afterAll(async () => {
  await service?.close();
  await bus?.stop();
});

const ctl = (...args: string[]) => run(process.execPath, [CRTOSCTL, ...args], { env: { ...process.env, CRTOS_BUS_ADDRESS: bus.address } });

describe('crtosctl metrics', () => {
  test('prints what crtosd returns, byte for byte, exit 0', async () => {
    expect(await ctl('metrics')).toMatchObject({ code: 0, stdout: TEXT, stderr: '' });
  });

  test('takes no operands and no --json: exit 2 saying why', async () => {
    const extra = await ctl('metrics', 'nuttx.cell');
    expect(extra.code).toBe(2);
    expect(extra.stderr).toBe("crtosctl metrics: takes no arguments, not 'nuttx.cell'; usage: crtosctl metrics\n");
    const json = await ctl('--json', 'metrics');
    expect(json.code).toBe(2);
    expect(json.stderr).toContain("--json does not apply: the metrics are printed in Prometheus's text format");
    expect(json.stdout).toBe('');
  });

  test('a bus without crtosd, then a crtosd that keeps no metrics: exit 1 saying which', async () => {
    const other = await startPrivateBus();
    let bare: DbusServiceHandle | undefined;
    try {
      const metricsOn = () => run(process.execPath, [CRTOSCTL, '--bus', other.address, 'metrics']);
      const noDaemon = await metricsOn();
      expect(noDaemon.code).toBe(1);
      expect(noDaemon.stderr).toContain('error[API_NO_DAEMON]: crtosd is not running on');
      bare = await startDbusService(new FakeManager(), { busAddress: other.address });
      const none = await metricsOn();
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('this crtosd keeps no metrics');
    } finally {
      await bare?.close();
      await other.stop();
    }
  });
});
