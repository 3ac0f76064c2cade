/**
 * crtosd killed with SIGKILL on the simulated i.MX8M while the remote processor runs Zephyr and
 * its Linux proxy talks to it: a new crtosd adopts everything as it finds it (no sysfs write, the
 * proxy the same process), as a daemon restart must disturb nothing.
 */
import { afterEach, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture, type Fixture } from '../engine/harness.js';
import { REMOTEPROC_DESCRIPTION } from '../../src/sim/index.js';
import { REMOTEPROC_UNITS, sysfsWrites } from '../engine/remoteproc-fixture.js';
import { until } from '../helpers/wait-for.js';
import { machineChanges, outputOf, runOnce, startDaemon } from './run.js';

let f: Fixture | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

const proxyPid = (fx: Fixture): number | undefined => {
  try {
    return (JSON.parse(readFileSync(join(fx.stateDir, 'state.json'), 'utf8')) as { units: Record<string, { facts: { pid?: number } }> }).units['rpmsg-proxy.loader']?.facts.pid;
  } catch {
    return undefined;
  }
};

test('SIGKILL while Zephyr runs and its proxy talks to it: the next crtosd writes nothing and keeps the proxy', async () => {
  f = await makeFixture({ description: REMOTEPROC_DESCRIPTION, units: REMOTEPROC_UNITS });
  const fx = f;
  const d = startDaemon(fx);
  const sources = [...machineChanges(fx), ...outputOf(d.child)];
  await until('the bring-up: the processor running, the proxy recorded', async () => (await fx.machine.remoteproc()).processors.some((p) => p.name === 'imx-rproc' && p.state === 'running') && proxyPid(fx) !== undefined, {
    sources,
    timeoutMs: 30_000,
    detail: d.output,
  });
  const pid = proxyPid(fx)!;
  await fx.machine.clearLog();
  d.child.kill('SIGKILL');
  await d.exited;
  const again = await runOnce(fx);
  expect(again.code, again.stderr).toBe(0);
  expect(await sysfsWrites(fx)).toEqual([]);
  expect(proxyPid(fx)).toBe(pid);
  expect(() => process.kill(pid, 0)).not.toThrow();
  expect((await fx.machine.remoteproc()).processors.find((p) => p.name === 'imx-rproc')?.state).toBe('running');
});
