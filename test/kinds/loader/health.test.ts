/** A loader's `liveness:` and `health:`: its events, the table `restart:` gives, and what it cannot do. */
import { describe, expect, it } from 'vitest';
import { build, errorsOf } from '../../units/helpers.js';
import { loaderHealthTable, type LoaderSpec } from '../../../src/kinds/loader/spec.js';
import { loaderBehaviour } from '../../../src/kinds/loader/behaviour.js';

const TEXT = 'kind: Loader\nname: l\nexec: [/opt/loader]\n';
const loader = (fields: string) => build({ 'l.yaml': `${TEXT}${fields}` });
const specOf = (fields: string): LoaderSpec => {
  const r = loader(fields);
  expect(errorsOf(r)).toEqual([]);
  return r.set!.units.get('l.loader')!.spec as LoaderSpec;
};
const levels = (fields: string) => Object.fromEntries(Object.entries(loaderHealthTable(specOf(fields)).on).map(([e, entry]) => [e, entry!.level]));

describe('Loader health table', () => {
  it('without a table, restart: is the table, as systemd\'s Restart= (a clean exit restarts only with always)', () => {
    expect(levels('')).toEqual({ failed: 'log', liveness: 'log', startFailed: 'log', exited: 'log' });
    expect(levels('restart: on-failure\n')).toEqual({ failed: 'restart', liveness: 'restart', startFailed: 'restart', exited: 'log' });
    expect(levels('restart: always\n')).toEqual({ failed: 'restart', liveness: 'restart', startFailed: 'restart', exited: 'restart' });
    expect(loaderHealthTable(specOf('restart: always\n')).on.exited).toEqual({ level: 'restart', legacy: 'restart: always' });
  });

  it('the table names what it wants; restart: decides the rest', () => {
    expect(levels('restart: on-failure\nhealth: { on: { liveness: sick }, levels: { sick: { action: restart, limit: 2, window: 1min, then: stop } } }\n')).toEqual({
      failed: 'restart',
      liveness: 'sick',
      startFailed: 'restart',
      exited: 'log',
    });
  });

  it('refuses stop-hypervisor (a loader runs on none), in a level or named by an event, and readyTimeout (it has no ready probe)', () => {
    const inLevel = 'health:\n  levels:\n    isolate: { action: stop-hypervisor }\n';
    expect(errorsOf(loader(inLevel))).toEqual([
      expect.objectContaining({
        code: 'UNIT_INVALID_VALUE',
        file: 'l.yaml',
        line: 6,
        column: 24,
        message: "'health.levels.isolate.action': 'stop-hypervisor': a Loader cannot do that (it runs on no hypervisor of its own); use stop or stop-dependents",
      }),
    ]);
    expect(errorsOf(loader('health: { on: { failed: stop-hypervisor } }\n'))).toEqual([expect.objectContaining({ message: expect.stringContaining('a Loader cannot do that') })]);
    expect(errorsOf(loader('health: { on: { readyTimeout: stop } }\n'))).toEqual([expect.objectContaining({ code: 'UNIT_UNKNOWN_FIELD' })]);
    // Named by an unknown name, a Loader's choices leave stop-hypervisor out.
    expect(errorsOf(loader('health: { on: { failed: nope } }\n'))[0]!.message).not.toContain('stop-hypervisor');
  });

  it("hands an exec check the loader's environment", () => {
    const unit = loader('environment: { MODE: fast }\nliveness: { exec: [/opt/check] }\n').set!.units.get('l.loader')!;
    expect(loaderBehaviour.health!(unit)).toMatchObject({ env: { MODE: 'fast' }, liveness: { exec: ['/opt/check'] } });
  });
});
