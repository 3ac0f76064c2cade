/**
 * Conditions in the engine, end to end: crtosd's Manager on a simulated machine, served on a
 * private bus, read by crtosctl. A unit whose condition fails is inactive (condition-failed), not
 * failed; a unit that requires it is skipped; one that only wants it runs; a reload that changes
 * a condition starts or stops the unit like any other change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFixture, settle, type Fixture } from '../engine/harness.js';
import { serveOnPrivateBus, type Harness } from '../cli/helpers/harness.js';
import type { Manager } from '../../src/engine/manager.js';

const UNITS = `kind: Driver
name: jailhouse
module: jailhouse
wants: [imx.driver]
---
kind: Driver
name: imx
path: /opt/crtos/drivers/uio_ivshmem.ko
conditions:
  board: "*i.MX8M Plus*"
---
kind: Driver
name: proxy
path: /opt/crtos/drivers/ivshmem-net.ko
requires: [imx.driver]
`;

let f: Fixture;
let m: Manager;
let h: Harness<Manager>;

beforeAll(async () => {
  const source = mkdtempSync(join(tmpdir(), 'crtos-conditions-'));
  writeFileSync(join(source, 'units.yaml'), UNITS);
  f = await makeFixture({ units: source });
  m = f.manager();
  await m.start();
  await settle(m);
  h = await serveOnPrivateBus(m);
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await f?.cleanup();
});

const state = (id: string) => {
  const u = m.getUnit(id)!;
  return `${u.activeState}/${u.subState}/${u.result}`;
};

describe('conditions on a running crtosd', () => {
  it('leaves a unit whose condition fails inactive, says why over D-Bus, skips what requires it and runs what wants it', async () => {
    expect(state('imx.driver')).toBe('inactive/condition-failed/success');
    expect(state('proxy.driver')).toBe('inactive/skipped/success');
    expect(state('jailhouse.driver')).toBe('active/loaded/success');
    expect(await f.ops()).toEqual(['modprobe jailhouse']);
    const status = await h.ctl(['status', 'imx.driver', 'proxy.driver']);
    expect(status.stdout).toContain('Active: inactive (condition-failed)');
    expect(status.stdout).toContain('Condition: condition failed: board "*i.MX8M Plus*" (board is "Supermicro C7X99-OCE-F")');
    expect(status.stdout).toContain('Condition: skipped: requires imx.driver, whose condition failed');
    const shown = await h.ctl(['show', 'imx.driver', '--property', 'ConditionResult,ConditionText']);
    expect(shown.stdout).toBe('ConditionResult=no\nConditionText=condition failed: board "*i.MX8M Plus*" (board is "Supermicro C7X99-OCE-F")\n');
    expect((await h.ctl(['show', 'jailhouse.driver', '--property', 'ConditionResult'])).stdout).toBe('ConditionResult=yes\n');
    // Not a failure: the daemon is running, not degraded.
    expect(m.daemon().systemState).toBe('running');
  });

  it('starts the units when a reload makes the condition hold, and stops them when it fails again', async () => {
    f.writeUnit('units.yaml', UNITS.replace('"*i.MX8M Plus*"', '"!*i.MX8M Plus*"'));
    expect((await m.reload()).ok).toBe(true);
    await settle(m);
    expect(state('imx.driver')).toBe('active/loaded/success');
    expect(state('proxy.driver')).toBe('active/loaded/success');
    expect(m.getUnit('imx.driver')!.condition).toBeUndefined();
    f.writeUnit('units.yaml', UNITS);
    const outcome = await m.reload();
    expect(outcome.steps).toContainEqual({ unit: 'imx.driver', action: 'stop', reason: 'condition failed: board "*i.MX8M Plus*" (board is "Supermicro C7X99-OCE-F")' });
    await settle(m);
    expect(state('imx.driver')).toBe('inactive/condition-failed/success');
    expect(state('proxy.driver')).toBe('inactive/skipped/success');
    expect((await f.ops()).slice(-2)).toEqual(['rmmod ivshmem_net', 'rmmod uio_ivshmem']);
  });
});
