import { describe, expect, test } from 'vitest';
import { barEnd, failedUp, originOf, originRealtimeOf, unitTimes } from '../../../src/cli/analyze/data.js';
import { makeUnit } from '../../dbus/helpers/fake-manager.js';
import type { TransitionTimes } from '../../../src/engine/manager-api.js';
import { unit } from './fixtures.js';

const times = (t: Partial<TransitionTimes>): TransitionTimes => ({ stateChange: 0, inactiveExit: 0, activeEnter: 0, activeExit: 0, inactiveEnter: 0, ...t });

describe('analyze data', () => {
  test("a unit's times are its monotonic transition timestamps, systemd-analyze's names", () => {
    const status = makeUnit('nuttx.cell', { kind: 'Cell' }, {
      activeState: 'active',
      timestamps: { ...times({ inactiveExit: 9_000_000, activeEnter: 9_500_000 }), monotonic: times({ inactiveExit: 100, activeEnter: 350, activeExit: 20, inactiveEnter: 30 }) },
      requires: ['jailhouse.hypervisor'],
      wants: ['crtos-link.network'],
      after: ['jailhouse.hypervisor', 'nuttx.image'],
    });
    expect(unitTimes(status)).toEqual({
      id: 'nuttx.cell',
      kind: 'cell',
      activeState: 'active',
      activating: 100,
      activated: 350,
      deactivating: 20,
      deactivated: 30,
      time: 250,
      requires: ['jailhouse.hypervisor'],
      wants: ['crtos-link.network'],
      after: ['jailhouse.hypervisor', 'nuttx.image'],
    });
    expect(originRealtimeOf([status])).toBe(9_000_000);
  });

  test('activation time: to active, else to the failure, else unknown', () => {
    const failed = makeUnit('bad.cell', { kind: 'Cell' }, { timestamps: { ...times({}), monotonic: times({ inactiveExit: 100, activeEnter: 50, inactiveEnter: 180 }) } });
    expect(unitTimes(failed).time).toBe(80);
    const activating = makeUnit('slow.cell', { kind: 'Cell' }, { timestamps: { ...times({}), monotonic: times({ inactiveExit: 100, activeEnter: 50, inactiveEnter: 60 }) } });
    expect(unitTimes(activating).time).toBe(0);
  });

  test('the origin is the first unit to leave inactive; bars end at active, the failure or now', () => {
    const units = [unit('a.driver', 300, 400), unit('b.cell', 200, 0, { deactivated: 250 }), unit('c.loader', 500, 0), unit('d.network', 0, 0)];
    expect(originOf(units)).toBe(200);
    expect(originOf([unit('d.network', 0, 0)])).toBe(0);
    expect(units.map((u) => barEnd(u, 999))).toEqual([400, 250, 999, undefined]);
    expect(units.map(failedUp)).toEqual([false, true, false, false]);
  });
});
