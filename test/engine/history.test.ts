/** Per-unit history survives a daemon restart: the log `crtosctl status UNIT` shows, restart counts, results. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_ACTIVE, fastSupervision, makeFixture, settle, states, untilUnit, pidOf, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';

describe('unit history across a daemon restart', () => {
  let f: Fixture;
  let m: Manager;
  beforeAll(async () => {
    f = await makeFixture();
    fastSupervision(f);
    m = f.manager();
    await m.start();
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
  });
  afterAll(async () => f.cleanup());

  test("a restarted daemon shows each unit's earlier log lines and restart count", async () => {
    const pid = pidOf(m.getUnit('hello.loader'));
    const restarted = untilUnit(m, 'hello.loader', (u) => u.details.kind === 'Loader' && u.details.restarts === 1 && u.activeState === 'active');
    process.kill(pid, 'SIGKILL');
    await restarted;
    await m.idle();
    const before = m.unitLog('hello.loader', 0).map((l) => l.message);
    expect(before).toContain(`process ${pid} killed by SIGKILL`);
    m.close();
    expect(existsSync(join(f.stateDir, 'history.json'))).toBe(true);

    const again = f.manager();
    await again.start();
    await settle(again);
    const after = again.unitLog('hello.loader', 0).map((l) => l.message);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(again.getUnit('hello.loader')!.details).toMatchObject({ kind: 'Loader', restarts: 1 });
    expect(again.unitLog('nuttx.cell', 0).map((l) => l.message)).toContain('started');
    m = again;
  });
});
