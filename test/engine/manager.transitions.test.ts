/**
 * What the real hypervisor does that the simulated machine now shows too (issue 10, cases 2 and
 * 3): a cell already failed when `cell start` returns gets its onFailure; a `jailhouse disable`
 * behind crtosd's back, with the real timings (the cells gone about a second before `enabled`
 * reads 0), is waited out, then the hypervisor is enabled again and its cells re-created, with no
 * `cell create` run against a hypervisor that is switching off.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { ALL_ACTIVE, fastSupervision, makeFixture, settle, states, untilUnit, type Fixture } from './harness.js';
import { REAL_TIMINGS } from '../../src/sim/index.js';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
});

describe('a cell that faults in its first instructions', () => {
  test('is already failed when `cell start` returns: the start fails, and onFailure restarts it', async () => {
    const f = (fixture = await makeFixture());
    fastSupervision(f);
    await f.machine.setCellFailures([{ cell: 'nuttx', atStart: true, times: 1 }]);
    const m = f.manager();
    const failedAtStart = untilUnit(m, 'nuttx.cell', (u) => u.lastError?.code === 'ENGINE_CELL_FAILED');
    await m.start();
    expect((await failedAtStart).lastError!.message).toBe("cell nuttx is failed right after `jailhouse cell start`");
    await untilUnit(m, 'nuttx.cell', (u) => u.activeState === 'active');
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect((await f.ops()).filter((o) => o.startsWith('jailhouse cell start')).length).toBe(2);
  });
});

describe('jailhouse disable behind crtosd\'s back, with the real timings', () => {
  // Three times, with the 200 ms poll that failed 3 of 3 on the real machine.
  test.each([1, 2, 3])('run %i: waited out, then enabled again and the cell re-created; nothing run against a hypervisor switching off', async () => {
    const f = (fixture = await makeFixture());
    fastSupervision(f);
    await f.machine.setTimings(REAL_TIMINGS);
    const m = f.manager({ pollIntervalMs: 200 });
    await m.start();
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    await f.machine.clearLog();
    const disabled = untilUnit(m, 'jailhouse.hypervisor', (u) => u.activeState !== 'active');
    expect((await f.machine.runInProcess('jailhouse', ['disable'])).code).toBe(0);
    await disabled;
    await untilUnit(m, 'hello.loader', (u) => u.activeState === 'active' && u.details.kind === 'Loader' && u.details.pid !== 0, 30_000);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    const ops = await f.ops();
    // Nothing crtosd ran failed (the old loader ends with its cell: that is the disable's doing).
    expect(ops.filter((o) => / => /.test(o) && !o.startsWith('jailhouse disable') && !o.startsWith('loader')), ops.join('\n')).toEqual([]);
    const enable = ops.findIndex((o) => o.startsWith('jailhouse enable'));
    const create = ops.findIndex((o) => o.startsWith('jailhouse cell create'));
    expect(enable, ops.join('\n')).toBeGreaterThan(ops.findIndex((o) => o.startsWith('jailhouse disable')));
    expect(create).toBeGreaterThan(enable);
  }, 60_000);
});
