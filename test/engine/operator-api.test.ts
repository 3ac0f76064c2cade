/**
 * What an operator asks of the engine beside jobs (src/engine/operator-api.ts), on the simulated
 * machine with script loaders: masks (persistent across a daemon restart, runtime), reset-failed
 * and kill. One machine for the file; the tests run in order and build on each other.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { makeEmptyFixture, scriptLoader, settle, stopAllAndCleanup, untilUnit, pidOf, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';
import { fileMaskStore } from '../../src/engine/masks.js';
import { isProblemError } from '../../src/errors/problem.js';

/** The problem a call threw (fails the test when it did not throw one). */
async function refusal(call: () => unknown): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await call();
  } catch (e) {
    if (isProblemError(e)) return e.problems[0]!;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('operator requests on the engine', () => {
  let f: Fixture;
  let m: Manager;
  let maskDirs: { persistent: string; runtime: string };
  const manager = () => f.manager({ masks: fileMaskStore(maskDirs) });

  beforeAll(async () => {
    f = await makeEmptyFixture();
    maskDirs = { persistent: join(f.dir, 'etc/crtos/mask'), runtime: join(f.stateDir, 'mask') };
    scriptLoader(f, 'sleeper', 'exec sleep 300', 'restart: on-failure\nrestartSec: 100ms');
    scriptLoader(f, 'quitter', 'exit 3');
    scriptLoader(f, 'crasher', 'exit 1', 'restart: on-failure\nrestartSec: 100ms\nrestartMaxSec: 100ms\nstartLimit: { burst: 2, interval: 60s }');
    m = manager();
    await m.start();
    await untilUnit(m, 'sleeper.loader', (s) => s.activeState === 'active');
    await untilUnit(m, 'quitter.loader', (s) => s.activeState === 'failed');
    await untilUnit(m, 'crasher.loader', (s) => s.result === 'start-limit-hit');
    await settle(m);
  });
  afterAll(() => stopAllAndCleanup(f, m));

  test('a masked unit that runs keeps running; start and restart are refused naming the mask and unmask; stop works and nothing starts it again', async () => {
    const pid = pidOf(m.getUnit('sleeper.loader'));
    expect(m.mask(['sleeper.loader'], 'persistent')).toEqual([{ type: 'symlink', file: join(maskDirs.persistent, 'sleeper.loader'), destination: '/dev/null' }]);
    await settle(m);
    expect(m.getUnit('sleeper.loader')).toMatchObject({ loadState: 'masked', activeState: 'active' });
    expect(pidOf(m.getUnit('sleeper.loader'))).toBe(pid);
    for (const type of ['start', 'restart'] as const) {
      const p = await refusal(() => m.enqueue('sleeper.loader', type));
      expect(p.code).toBe('ENGINE_UNIT_MASKED');
      expect(p.message).toBe(`Unit sleeper.loader is masked (${join(maskDirs.persistent, 'sleeper.loader')}); unmask it first: crtosctl unmask sleeper.loader`);
    }
    m.enqueue('sleeper.loader', 'stop');
    await untilUnit(m, 'sleeper.loader', (s) => s.activeState === 'inactive');
    await m.trigger('test: another pass');
    expect(m.getUnit('sleeper.loader')).toMatchObject({ loadState: 'masked', activeState: 'inactive' });
  });

  test('a persistent mask survives a daemon restart: the new daemon does not start the unit; unmasked, the next pass does', async () => {
    m.close();
    m = manager();
    await m.start();
    await settle(m);
    expect(m.getUnit('sleeper.loader')).toMatchObject({ loadState: 'masked', activeState: 'inactive' });
    expect(m.unmask(['sleeper.loader'], 'runtime')).toEqual([]); // masked persistently, not at runtime
    expect(m.unmask(['sleeper.loader'], 'persistent')).toEqual([{ type: 'unlink', file: join(maskDirs.persistent, 'sleeper.loader'), destination: '' }]);
    const s = await untilUnit(m, 'sleeper.loader', (u) => u.activeState === 'active');
    expect(s.loadState).toBe('loaded');
  });

  test('a runtime mask lives in the state directory; a name that is no unit id of a known kind changes nothing', async () => {
    m.mask(['quitter.loader'], 'runtime');
    expect(lstatSync(join(maskDirs.runtime, 'quitter.loader')).isSymbolicLink()).toBe(true);
    expect(m.getUnit('quitter.loader')?.loadState).toBe('masked');
    for (const bad of ['../escape.loader', 'noext', 'thing.nokind']) {
      expect((await refusal(() => m.mask(['crasher.loader', bad], 'persistent'))).code).toBe('ENGINE_BAD_UNIT_NAME');
    }
    expect(existsSync(join(maskDirs.persistent, 'crasher.loader'))).toBe(false);
    m.unmask(['quitter.loader'], 'runtime');
    expect(m.getUnit('quitter.loader')?.loadState).toBe('loaded');
  });

  test('reset-failed: a failed unit becomes inactive without its error and is not started again; an unknown unit is ENGINE_NO_SUCH_UNIT', async () => {
    expect(m.getUnit('quitter.loader')).toMatchObject({ activeState: 'failed', result: 'exit-code' });
    expect(m.resetFailed('quitter.loader')).toEqual(['quitter.loader']);
    const s = m.getUnit('quitter.loader')!;
    expect(s).toMatchObject({ activeState: 'inactive', subState: 'dead', result: 'success' });
    expect(s.lastError).toBeUndefined();
    await m.trigger('test: another pass');
    expect(m.getUnit('quitter.loader')?.activeState).toBe('inactive');
    expect(m.resetFailed('quitter.loader')).toEqual([]); // not failed: fine, nothing to reset
    expect((await refusal(() => m.resetFailed('nope.loader'))).code).toBe('ENGINE_NO_SUCH_UNIT');
  });

  test('reset-failed of every unit also starts the start limit and the restart count afresh: start runs the unit through its burst again', async () => {
    const hit = m.getUnit('crasher.loader')!;
    expect(hit).toMatchObject({ activeState: 'failed', result: 'start-limit-hit' });
    expect(hit.details.restarts).toBeGreaterThan(0);
    expect(m.resetFailed()).toEqual(['crasher.loader']);
    expect(m.getUnit('crasher.loader')).toMatchObject({ activeState: 'inactive', result: 'success', details: { restarts: 0 } });
    m.enqueue('crasher.loader', 'start');
    // A fresh burst of 2: the start and one restart, then the limit again.
    const again = await untilUnit(m, 'crasher.loader', (s) => s.result === 'start-limit-hit');
    expect(again.details.restarts).toBe(1);
  });

  test('kill: SIGKILL to the main process is a failure its restart policy restarts; a unit with no process and an unknown one are refused', async () => {
    const pid = pidOf(m.getUnit('sleeper.loader'));
    expect(await m.kill('sleeper.loader', 'main', 'SIGKILL')).toBe(1);
    const s = await untilUnit(m, 'sleeper.loader', (u) => u.activeState === 'active' && pidOf(u) !== pid);
    expect(s.details.restarts).toBe(1);
    expect(m.unitLog('sleeper.loader', 0).map((l) => l.message)).toContain(`sent SIGKILL to its main process ${pid} (crtosctl kill)`);
    const none = await refusal(() => m.kill('quitter.loader', 'all', 'SIGTERM'));
    expect(none).toMatchObject({ code: 'ENGINE_CANNOT_KILL', message: 'quitter.loader has no process running to send SIGTERM to' });
    expect((await refusal(() => m.kill('nope.loader', 'all', 'SIGTERM'))).code).toBe('ENGINE_NO_SUCH_UNIT');
  });
});
