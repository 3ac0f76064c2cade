/**
 * A kind is one folder plus its registry line: the Alias kind exists only in the test tree
 * (test/fixtures/kind-alias/), and goes through everything a built-in kind goes through —
 * `crtosctl validate` (schema errors with file, line and column; the machine checks), the plan of a
 * reload, apply on the simulated machine (and stop when its file goes), its D-Bus interface as
 * another client reads it (busctl), and `crtosctl status`. crtosctl runs in this process (main()),
 * since only this process has the kind registered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import './../fixtures/kind-alias/register.js';
import { ctlInProcess } from '../cli/helpers/in-process.js';
import { startDbusService, type DbusServiceHandle } from '../../src/dbus/index.js';
import type { Manager } from '../../src/engine/manager.js';
import { makeFixture, untilUnit, type Fixture } from '../engine/harness.js';
import { startPrivateBus, type PrivateBus } from '../dbus/helpers/private-bus.js';
import { run } from '../dbus/helpers/run.js';

const ALIAS = 'kind: Alias\nname: extra\ninterface: enp0s13\naddress: 127.0.0.9/8\nrequires: [ivshmem-net.driver]\n';

const ctl = ctlInProcess;

let f: Fixture;
let bus: PrivateBus;
let manager: Manager;
let service: DbusServiceHandle;

beforeAll(async () => {
  f = await makeFixture();
  bus = await startPrivateBus();
});
afterAll(async () => {
  await service?.close();
  await bus?.stop();
  await f?.cleanup();
});

describe('a kind that exists only in the test tree', () => {
  it('is checked by crtosctl validate: its own schema errors, with file, line and column', async () => {
    f.writeUnit('extra.yaml', ALIAS.replace('127.0.0.9/8', '127.0.0.9'));
    const bad = await ctl('validate', '--root', f.machine.dir, f.unitsDir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/extra\.yaml:4:\d+: error/);
    expect(bad.stderr).toContain('extra.alias');

    f.writeUnit('extra.yaml', ALIAS);
    const good = await ctl('validate', '--root', f.machine.dir, f.unitsDir);
    expect(good.stderr).toBe('');
    expect(good.stdout).toMatch(/^11 units valid \(.*2 links, 1 alias\)/);
    expect(good.code).toBe(0);
  });

  it('is applied on the simulated machine, in dependency order', async () => {
    manager = f.manager();
    service = await startDbusService(manager, { busAddress: bus.address });
    await manager.start();
    await untilUnit(manager, 'extra.alias', (s) => s.activeState === 'active');
    const link = (await f.machine.state()).interfaces.find((i) => i.name === 'enp0s13');
    expect(link?.addresses).toContain('127.0.0.9/8');
    const ops = await f.ops();
    const added = ops.findIndex((o) => o.startsWith('ip addr add') && o.includes('127.0.0.9/8 dev enp0s13'));
    expect(added, ops.join('\n')).toBeGreaterThan(ops.findIndex((o) => o.includes('ivshmem-net.ko')));
    expect(ops.findIndex((o) => o.includes('ivshmem-net.ko'))).toBeGreaterThanOrEqual(0);
  });

  it('shows its own D-Bus interface to a client that is not ours', async () => {
    const path = '/org/crtos/unit/extra_2ealias';
    const get = (prop: string) => run('busctl', [`--address=${bus.address}`, 'get-property', 'org.crtos.Manager1', path, 'org.crtos.test.Alias1', prop]);
    expect((await get('Address')).stdout).toBe('s "127.0.0.9/8"\n');
    expect((await get('Present')).stdout).toBe('b true\n');
    const introspect = await run('busctl', [`--address=${bus.address}`, 'introspect', 'org.crtos.Manager1', path, 'org.crtos.test.Alias1']);
    expect(introspect.stdout).toMatch(/\.Interface\s+property\s+s\s+"enp0s13"/);
  });

  it('is shown by crtosctl status with its own lines', async () => {
    const r = await ctl('--bus', bus.address, 'status', 'extra.alias');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ +Active: active \(present\)/m);
    expect(r.stdout).toMatch(/^ +Alias: 127\.0\.0\.9\/8 on enp0s13$/m);
    expect(r.stdout).toMatch(/^ +Present: yes$/m);
  });

  it('is planned and re-applied when its file changes, and stopped when its file goes', async () => {
    f.writeUnit('extra.yaml', ALIAS.replace('127.0.0.9/8', '127.0.0.10/8'));
    const plan = await ctl('--bus', bus.address, 'plan');
    expect(plan.stdout).toMatch(/^ +restart +extra\.alias +field address changed$/m);
    const reload = await ctl('--bus', bus.address, 'reload');
    expect(reload.code).toBe(0);
    await untilUnit(manager, 'extra.alias', (s) => s.activeState === 'active' && s.details.address === '127.0.0.10/8');
    const addresses = (await f.machine.state()).interfaces.find((i) => i.name === 'enp0s13')?.addresses;
    expect(addresses).toContain('127.0.0.10/8');
    expect(addresses).not.toContain('127.0.0.9/8');

    rmSync(join(f.unitsDir, 'extra.yaml'));
    expect((await ctl('--bus', bus.address, 'reload')).code).toBe(0);
    const after = (await f.machine.state()).interfaces.find((i) => i.name === 'enp0s13')?.addresses;
    expect(after).not.toContain('127.0.0.10/8');
    expect(manager.getUnit('extra.alias')).toBeUndefined();
  });
});
