/** Supervision on the simulated machine: cells entering `failed` and crashing loaders. */
import { afterEach, describe, expect, test } from 'vitest';
import { ALL_ACTIVE, fastSupervision, machineOps, makeFixture, settle, states, until, untilUnit, pidOf, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';
import { createServer, type AddressInfo } from 'node:net';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
});

async function running(): Promise<{ f: Fixture; m: Manager }> {
  const f = (fixture = await makeFixture());
  fastSupervision(f);
  const m = f.manager();
  await m.start();
  await settle(m);
  expect(states(m)).toEqual(ALL_ACTIVE);
  await f.machine.clearLog();
  return { f, m };
}

const loaderPid = (m: Manager) => pidOf(m.getUnit('hello.loader'));

describe('supervision', () => {
  test('a cell entering failed is reloaded in place (not re-created) and its loader restarted', async () => {
    const { f, m } = await running();
    const pid = loaderPid(m);
    const noticed = untilUnit(m, 'nuttx.cell', (s) => s.activeState !== 'active'); // by the sysfs poll
    await f.machine.failCell('nuttx');
    await noticed;
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    const ops = (await f.ops()).filter((o) => o.startsWith('jailhouse'));
    expect(ops.map((o) => o.split(' --')[0])).toEqual(['jailhouse cell shutdown cell shutdown', 'jailhouse cell load cell load', 'jailhouse cell start cell start']);
    expect(loaderPid(m)).not.toBe(pid);
  });

  test('a cell that keeps failing is restarted until its start limit', async () => {
    const { f, m } = await running();
    // Due at once for the run going now (it started more than 150 ms ago), and 150 ms into each restart.
    await f.machine.setCellFailures([{ cell: 'nuttx', afterStartMs: 150 }]);
    await untilUnit(m, 'nuttx.cell', (s) => s.result === 'start-limit-hit', 30_000);
    await settle(m, 30_000);
    expect(m.getUnit('nuttx.cell')).toMatchObject({ activeState: 'failed', result: 'start-limit-hit' });
    // burst 3 in the window: the first start plus two restarts, then no more.
    expect((await f.ops()).filter((o) => o.startsWith('jailhouse cell start')).length).toBe(2);
    expect(m.getUnit('nuttx.cell')!.lastError?.code).toBe('ENGINE_START_LIMIT');
  });

  test('a cell that fails before it answers its probe fails the start at once, not after ready.timeout', async () => {
    const f = (fixture = await makeFixture());
    fastSupervision(f);
    // Probed where nothing listens, with a minute to answer: were the probe to wait it out, the
    // test would time out. The cell fails 300 ms after each start.
    const closed = await closedLoopbackPort();
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace(/tcp: "?127\.[\d.]+:\d+"?, timeout: 10s \}/, `tcp: "127.0.0.1:${closed}", timeout: 60s }`));
    expect(f.readUnit('nuttx.yaml')).toContain(`127.0.0.1:${closed}`);
    await f.machine.setCellFailures([{ cell: 'nuttx', afterStartMs: 300 }]);
    const m = f.manager();
    await m.start();
    const failed = await untilUnit(m, 'nuttx.cell', (s) => s.result === 'start-limit-hit');
    await settle(m);
    expect(m.getUnit('nuttx.cell')).toMatchObject({ activeState: 'failed', result: 'start-limit-hit' });
    expect(failed.lastError?.message).toMatch(/cell nuttx is failed while waiting for it to accept a connection/);
    expect(m.getUnit('hello.loader')).toMatchObject({ activeState: 'failed', result: 'dependency' });
    expect((await f.ops()).filter((o) => o.startsWith('jailhouse cell start')).length).toBe(3);
    // Nothing half-made: each failed start destroyed its cell, the CPU is Linux's again.
    expect((await f.machine.state()).jailhouse.cells.filter((c) => c.id !== 0)).toEqual([]);
  }, 30_000);

  test('a crashing loader is restarted with back-off until its start limit', async () => {
    const { f, m } = await running();
    const first = loaderPid(m);
    // Restarted: a new process, and it got as far as the stand-in logging itself resident (killed
    // sooner, it would leave no trace in the log to count).
    const restartedFrom = async (pid: number) => {
      const s = await untilUnit(m, 'hello.loader', (u) => u.activeState === 'active' && pidOf(u) !== pid);
      const pidNow = pidOf(s);
      await until(async () => (await f.machine.readLog()).some((e) => e.op === 'loader' && e.result === 'ok' && e.detail?.pid === pidNow), 15_000, `the loader ${pidNow} logged resident`, [machineOps(f)]);
    };
    process.kill(first, 'SIGKILL');
    await restartedFrom(first);
    const second = loaderPid(m);
    expect(second).not.toBe(first);
    expect(m.getUnit('hello.loader')).toMatchObject({ activeState: 'active', details: { restarts: 1, exitSignal: 'SIGKILL' } });
    process.kill(second, 'SIGKILL');
    await restartedFrom(second);
    process.kill(loaderPid(m), 'SIGKILL');
    await untilUnit(m, 'hello.loader', (s) => s.result === 'start-limit-hit');
    await settle(m);
    expect(m.getUnit('hello.loader')).toMatchObject({ activeState: 'failed', result: 'start-limit-hit' });
    expect((await f.ops()).filter((o) => o.startsWith('chrt')).length).toBe(2);
    // The cell was never touched by the loader's troubles.
    expect((await f.ops()).some((o) => o.startsWith('jailhouse'))).toBe(false);
  });
});

/** A loopback port nothing listens on (bound, then released). */
async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('what an earlier daemon started', () => {
  test('a loader adopted after a daemon restart is watched: its death is noticed and it is restarted', async () => {
    const { f, m } = await running();
    const pid = loaderPid(m);
    m.close(); // the daemon goes away; the loader runs on
    const again = f.manager();
    expect((await again.start()).ok).toBe(true);
    await settle(again);
    expect(loaderPid(again)).toBe(pid);
    await f.machine.clearLog();
    const restarted = untilUnit(again, 'hello.loader', (u) => u.activeState === 'active' && pidOf(u) !== pid && pidOf(u) !== 0, 10_000);
    process.kill(pid, 'SIGKILL');
    await restarted;
    expect((await f.ops()).filter((o) => o.startsWith('chrt')).length).toBe(1);
  });
});
