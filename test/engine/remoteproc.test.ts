/**
 * units/remoteproc/ on the simulated i.MX8M machine: the firmware installed under crtosd's name,
 * that name written to `firmware`, `start` to `state`; the rpmsg link active once the firmware
 * announced its channel; the proxy running over the tty. A new firmware stops, installs and
 * starts the processor and touches nothing else.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { makeFixture, machineOps, settle, states, until, untilUnit, type Fixture } from './harness.js';
import { REMOTEPROC_UNITS, RP_ACTIVE, sysfsWrites } from './remoteproc-fixture.js';
import type { Manager } from '../../src/engine/manager.js';
import { REMOTEPROC_DESCRIPTION, zephyrFirmware } from '../../src/sim/index.js';

const SYSFS = '/sys/class/remoteproc/remoteproc0';
const INSTALLED = 'lib/firmware/crtos-imx-rproc.elf';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('the remoteproc example on the simulated i.MX8M', () => {
  let f: Fixture;
  let m: Manager;

  beforeAll(async () => {
    f = await makeFixture({ description: REMOTEPROC_DESCRIPTION, units: REMOTEPROC_UNITS });
    m = f.manager();
  });
  afterAll(async () => f.cleanup());

  test('comes up: firmware installed, its name written, started; the link once the channel is announced; the proxy over the tty', async () => {
    const outcome = await m.start();
    expect(outcome.ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(RP_ACTIVE);
    expect(sha(readFileSync(join(f.machine.dir, INSTALLED)))).toBe(sha(zephyrFirmware()));
    // recovery enabled and coredump disabled are the kernel's defaults: not written.
    expect(await sysfsWrites(f)).toEqual(['firmware crtos-imx-rproc.elf', 'state start']);
    const log = await f.machine.readLog();
    const at = (pred: (e: (typeof log)[number]) => boolean) => log.findIndex(pred);
    expect(at((e) => e.op === 'rpmsg announce')).toBeGreaterThan(at((e) => e.op === 'sysfs write' && e.args[1] === 'start'));
    // The proxy is active once exec'd; it logs once the firmware answered its ping over the tty.
    await until(async () => (await f.machine.readLog()).some((e) => e.op === 'rpmsg proxy'), 10_000, 'the proxy to log its ping', [machineOps(f)]);
    expect((await f.machine.readLog()).filter((e) => e.op === 'rpmsg proxy').map((e) => e.result)).toEqual(['ok']);
    expect(readFileSync(join(f.machine.dir, SYSFS.slice(1), 'state'), 'utf8')).toBe('running\n');
    expect(m.getUnit('console.link')!.details).toMatchObject({ device: '/dev/ttyRPMSG0', present: true });
    expect(m.getUnit('zephyr.cell')!.details).toMatchObject({ jailhouseState: 'running' });
  });

  test('a second pass with nothing changed writes nothing', async () => {
    await f.machine.clearLog();
    await m.trigger('test');
    await settle(m);
    expect(await sysfsWrites(f)).toEqual([]);
    expect(states(m)).toEqual(RP_ACTIVE);
  });

  test('a daemon killed and started again adopts what runs: no sysfs write, the same proxy process', async () => {
    const proxy = m.getUnit('rpmsg-proxy.loader')!.details.pid;
    expect(proxy).toBeGreaterThan(0);
    // As SIGKILL leaves it: nothing stopped, the state file as the last pass wrote it.
    m.close();
    await f.machine.clearLog();
    m = f.manager();
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(RP_ACTIVE);
    expect(await sysfsWrites(f)).toEqual([]);
    expect(m.getUnit('rpmsg-proxy.loader')!.details.pid).toBe(proxy);
  });

  test('a new firmware: stop, install, start; the hypervisor, the link and the proxy are not touched but by the tty going and coming back', async () => {
    const v2 = zephyrFirmware(2);
    writeFileSync(join(f.machine.dir, 'opt/zephyr/zephyr-v2.elf'), v2);
    await f.machine.clearLog();
    const hvSince = m.getUnit('remoteproc.hypervisor')!.timestamps.activeEnter;
    expect(hvSince).toBeGreaterThan(0);
    f.writeUnit('remoteproc.yaml', f.readUnit('remoteproc.yaml').replace('/opt/zephyr/zephyr-openamp-rsc-table.elf', '/opt/zephyr/zephyr-v2.elf').replace(/sha256: [0-9a-f]{64}/, `sha256: ${sha(v2)}`));
    const outcome = await m.reload();
    expect(outcome.ok).toBe(true);
    expect(outcome.steps.map((s) => `${s.unit} ${s.action}`)).toEqual(['zephyr.cell reload']);
    await settle(m);
    await untilUnit(m, 'rpmsg-proxy.loader', (u) => u.activeState === 'active');
    expect(await sysfsWrites(f)).toEqual(['state stop', 'firmware crtos-imx-rproc.elf', 'state start']);
    expect(sha(readFileSync(join(f.machine.dir, INSTALLED)))).toBe(sha(v2));
    expect(m.getUnit('remoteproc.hypervisor')!.timestamps.activeEnter).toBe(hvSince);
    await until(async () => (await f.machine.readLog()).some((e) => e.op === 'rpmsg announce'), 10_000, 'the channel announced again', [machineOps(f)]);
    expect(states(m)).toEqual(RP_ACTIVE);
  });
});
