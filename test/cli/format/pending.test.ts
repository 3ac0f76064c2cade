/**
 * A change held for the operator (a re-enable) as people see it: `crtosctl plan` lists it apart,
 * under what it would not do now, and `crtosctl status UNIT` has a Pending line; the D-Bus
 * property carries it from the daemon to crtosctl unchanged.
 */
import { describe, expect, it } from 'vitest';
import { renderOutcome } from '../../../src/cli/format/plan.js';
import { renderUnitStatus } from '../../../src/cli/format/status.js';
import { unitProperties } from '../../../src/dbus/properties.js';
import { decodeUnitStatus } from '../../../src/dbus/client.js';
import type { UnitStatus } from '../../../src/engine/manager-api.js';
import { makeUnit } from '../../dbus/helpers/fake-manager.js';

const PLAIN = { color: false };
const HELD = 're-enable (field links changed); apply with `crtosctl restart jailhouse.hypervisor` (every cell is destroyed and created again), or set reEnableOnChange: true';

const status = (extra: Partial<UnitStatus> = {}): UnitStatus =>
  makeUnit('jailhouse.hypervisor', { kind: 'Hypervisor', type: 'jailhouse', enabled: true }, { activeState: 'active', subState: 'enabled', ...extra });

describe('a held change', () => {
  it('crtosctl plan: held steps are listed apart and not counted as steps the reload takes', () => {
    const text = renderOutcome(PLAIN, { ok: true, problems: [], steps: [{ unit: 'hello.loader', action: 'restart', reason: 'field exec changed' }, { unit: 'jailhouse.hypervisor', action: 'pending', reason: HELD }] }, 'planned');
    expect(text).toBe(`A reload would take 1 step:\n  restart  hello.loader  field exec changed\nHeld until you ask (nothing of these is done now):\n  pending  jailhouse.hypervisor  ${HELD}\n`);
    const only = renderOutcome(PLAIN, { ok: true, problems: [], steps: [{ unit: 'jailhouse.hypervisor', action: 'pending', reason: HELD }] }, 'planned');
    expect(only.split('\n')[0]).toBe('Nothing to do now.');
    expect(only).toContain('Held until you ask');
  });

  it('crtosctl status: a Pending line; none without a held change', () => {
    expect(renderUnitStatus(PLAIN, status({ pendingChange: HELD }), [], 0)).toContain(`    Pending: ${HELD}`);
    expect(renderUnitStatus(PLAIN, status(), [], 0)).not.toContain('Pending');
  });

  it('D-Bus: PendingChange carries it ("" for none) and crtosctl reads it back', () => {
    for (const s of [status({ pendingChange: HELD }), status()]) {
      const props = unitProperties(s);
      expect(props['org.crtos.Unit1']!.PendingChange).toBe(s.pendingChange ?? '');
      expect(decodeUnitStatus(props['org.crtos.Unit1']!, props['org.crtos.Hypervisor1']!).pendingChange).toBe(s.pendingChange);
    }
  });
});
