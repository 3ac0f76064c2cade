/**
 * units/remoteproc/ when things go wrong on the simulated i.MX8M: a firmware the kernel cannot
 * boot fails the start with the kernel's reason; a crash with recovery enabled is the kernel's
 * to handle (crtosd waits and logs, writes nothing); with recovery disabled the processor stays
 * crashed and the cell's health table reloads it; a hang is caught by the heartbeat liveness
 * check; a processor the bootloader started is adopted and survives a daemon restart untouched.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture, machineOps, managerEvents, settle, states, until, untilUnit, type Fixture } from './harness.js';
import { REMOTEPROC_DESCRIPTION, REMOTEPROC_FIRMWARE_FILE, type MachineDescription } from '../../src/sim/index.js';
import { REMOTEPROC_UNITS, RP_ACTIVE, sysfsWrites } from './remoteproc-fixture.js';
import type { Manager } from '../../src/engine/manager.js';
import { ADOPTED } from '../../src/backends/remoteproc/backend.js';
import type { UnitStatus } from '../../src/engine/manager-api.js';
import type { HealthDetails } from '../../src/engine/health/view.js';

const fixtures: Fixture[] = [];
afterAll(async () => Promise.all(fixtures.map((f) => f.cleanup())));

/** The example machine with its processor described otherwise (a slower recovery, a bootloader's core). */
async function fixture(processor: Record<string, unknown> = {}): Promise<Fixture> {
  const description: Partial<MachineDescription> = { ...REMOTEPROC_DESCRIPTION, remoteproc: { processors: [{ name: 'imx-rproc', driver: 'imx_rproc', ...processor }] } };
  const f = await makeFixture({ description, units: REMOTEPROC_UNITS });
  fixtures.push(f);
  return f;
}

async function up(f: Fixture): Promise<Manager> {
  const m = f.manager();
  expect((await m.start()).ok).toBe(true);
  await settle(m);
  expect(states(m)).toEqual(RP_ACTIVE);
  return m;
}

/** Resolves once the machine logged an operation `op` with that result. */
const logged = (f: Fixture, op: string, result = 'ok') =>
  until(async () => (await f.machine.readLog()).some((e) => e.op === op && e.result === result), 15_000, `${op} ${result} in the machine's log`, [machineOps(f)]);

const logLines = (m: Manager, id: string) => m.unitLog(id, 0).map((l) => l.message);

/** The health monitor's part of a cell's status. */
const healthOf = (u: UnitStatus) => u.details as unknown as HealthDetails;

/** Every line the manager logs from now on. */
function collectLog(m: Manager): string[] {
  const lines: string[] = [];
  m.on('log', (line) => void lines.push(line.message));
  return lines;
}

describe('remoteproc faults', () => {
  test('a firmware the kernel cannot boot: the start fails with the kernel\'s reason and what to check', async () => {
    const f = await fixture();
    // The link waits for a tty that will not come: not for its whole 10s.
    f.writeUnit('rpmsg.yaml', f.readUnit('rpmsg.yaml').replace('service: rpmsg-tty', 'service: rpmsg-tty\ntimeout: 1s'));
    await f.machine.setProcessorFaults([{ processor: 'imx-rproc', kind: 'boot-fail' }]);
    const m = f.manager();
    await m.start();
    await settle(m);
    const cell = m.getUnit('zephyr.cell')!;
    expect(cell.activeState).toBe('failed');
    expect(cell.lastError).toMatchObject({
      code: 'ENGINE_START_FAILED',
      message: expect.stringContaining('the kernel refused "start" for state of processor imx-rproc (remoteproc0, offline) with EINVAL: the kernel could not boot the firmware'),
      hint: 'check that crtos-imx-rproc.elf is an ELF built for imx-rproc, with a resource table',
    });
    expect(m.getUnit('rpmsg-proxy.loader')!.activeState).not.toBe('active');
  });

  test('a crash with recovery enabled: the kernel recovers it; crtosd waits, logs it and writes nothing', async () => {
    // A recovery long enough for the daemon's poll to see it under way.
    const f = await fixture({ recoveryMs: 1500 });
    const m = await up(f);
    await f.machine.clearLog();
    const lines = collectLog(m);
    await f.machine.crashProcessor('imx-rproc');
    await until(() => lines.some((l) => l.includes('the kernel is recovering imx-rproc after a crash')), 15_000, 'the recovery logged', [managerEvents(m)]);
    await logged(f, 'remoteproc recovery');
    await logged(f, 'rpmsg announce');
    await settle(m);
    await untilUnit(m, 'rpmsg-proxy.loader', (u) => u.activeState === 'active');
    expect(await sysfsWrites(f)).toEqual([]);
    expect(m.getUnit('zephyr.cell')).toMatchObject({ activeState: 'active', details: { jailhouseState: 'running' } });
    // On record as the cell's `recovered` health event: counted and logged, nothing more done.
    const cell = await untilUnit(m, 'zephyr.cell', (u) => healthOf(u).healthEvents.recovered === 1);
    expect(healthOf(cell)).toMatchObject({ healthLastEvent: 'recovered', healthLastAction: 'log' });
    expect(logLines(m, 'zephyr.cell').join('\n')).toContain('health: the kernel recovered imx-rproc after a crash');
  });

  test('a crash with recovery enabled and coredump on: the kernel recovers it; crtosd keeps the dump, logs it on the cell, and writes nothing to the processor', async () => {
    const f = await fixture({ recoveryMs: 300 });
    f.writeUnit('remoteproc.yaml', f.readUnit('remoteproc.yaml').replace('coredump: disabled', 'coredump: enabled'));
    const m = await up(f);
    await f.machine.clearLog();
    await f.machine.crashProcessor('imx-rproc');
    const cell = await untilUnit(m, 'zephyr.cell', (u) => typeof u.details.coredump === 'string' && u.details.coredump !== '', 15_000);
    expect(cell.details.coredump).toMatch(/^\/run\/crtos\/coredumps\/imx-rproc-\d{4}-.*\.core$/);
    expect(logLines(m, 'zephyr.cell').join('\n')).toContain(`kept the kernel's dump of imx-rproc after a crash as ${String(cell.details.coredump)}`);
    await settle(m);
    // Only the dump's deletion: nothing to the processor itself.
    expect(await sysfsWrites(f)).toEqual(['data 1']);
    await untilUnit(m, 'zephyr.cell', (u) => u.activeState === 'active' && u.details.jailhouseState === 'running');
    // One crash, one `recovered` event, whether the dump or the recovery under way showed it.
    expect(healthOf(m.getUnit('zephyr.cell')!).healthEvents).toEqual({ recovered: 1 });
  });

  test('a crash with recovery disabled: the cell fails and its health table reloads it (recovered, stopped, loaded, started)', async () => {
    const f = await fixture();
    f.writeUnit('remoteproc.yaml', f.readUnit('remoteproc.yaml').replace('recovery: true', 'recovery: false'));
    const m = await up(f);
    await f.machine.clearLog();
    await f.machine.crashProcessor('imx-rproc');
    await untilUnit(m, 'zephyr.cell', (u) => healthOf(u).healthEvents.failed === 1 && u.activeState === 'active' && u.details.jailhouseState === 'running');
    await settle(m);
    expect(await sysfsWrites(f)).toEqual(['recovery recover', 'state stop', 'firmware crtos-imx-rproc.elf', 'state start']);
    expect(healthOf(m.getUnit('zephyr.cell')!)).toMatchObject({ healthLastEvent: 'failed', healthLastAction: 'reload' });
    expect(logLines(m, 'zephyr.cell').join('\n')).toContain('remoteproc reports the cell crashed');
  });

  test('a crash with recovery disabled and an inline coredump: the dump is kept under /run/crtos/coredumps (which lets the recovery go on), then the cell is reloaded', async () => {
    const f = await fixture();
    f.writeUnit('remoteproc.yaml', f.readUnit('remoteproc.yaml').replace('recovery: true', 'recovery: false').replace('coredump: disabled', 'coredump: inline'));
    const m = await up(f);
    await f.machine.clearLog();
    await f.machine.crashProcessor('imx-rproc');
    await untilUnit(m, 'zephyr.cell', (u) => healthOf(u).healthEvents.failed === 1 && u.activeState === 'active' && u.details.jailhouseState === 'running');
    await settle(m);
    expect(await sysfsWrites(f)).toEqual(['recovery recover', 'data 1', 'state stop', 'firmware crtos-imx-rproc.elf', 'state start']);
    const kept = readdirSync(join(f.machine.dir, 'run/crtos/coredumps'));
    expect(kept).toEqual([expect.stringMatching(/^imx-rproc-\d{4}-.*\.core$/)]);
    await untilUnit(m, 'zephyr.cell', (u) => u.details.coredump === `/run/crtos/coredumps/${kept[0]}`);
    // An ELF core file, as the kernel wrote it.
    const core = readFileSync(join(f.machine.dir, 'run/crtos/coredumps', kept[0]!));
    expect([...core.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect(existsSync(join(f.machine.dir, 'sys/class/devcoredump/devcd1'))).toBe(false);
  });

  test('a hang: the heartbeat stops, liveness fails three times, the health table reloads the firmware', async () => {
    const f = await fixture();
    const m = await up(f);
    await f.machine.clearLog();
    await f.machine.hangProcessor('imx-rproc');
    await until(async () => (await sysfsWrites(f)).includes('state start'), 20_000, 'the firmware started again', [machineOps(f)]);
    await settle(m);
    expect(await sysfsWrites(f)).toEqual(['state stop', 'firmware crtos-imx-rproc.elf', 'state start']);
    expect(healthOf(m.getUnit('zephyr.cell')!)).toMatchObject({ healthEvents: { liveness: 1 }, healthLastEvent: 'liveness', healthLastAction: 'reload' });
  });

  test('a core the bootloader started is adopted as it runs, and a daemon killed and restarted disturbs nothing', async () => {
    const f = await fixture({ autoBoot: true, runningAtBoot: { image: REMOTEPROC_FIRMWARE_FILE } });
    f.writeUnit('remoteproc.yaml', f.readUnit('remoteproc.yaml').replace('coredump: disabled', 'coredump: disabled\n  bootloader: true'));
    const m = await up(f);
    expect(m.getUnit('zephyr.cell')!.details).toMatchObject({ jailhouseState: ADOPTED });
    expect(await sysfsWrites(f)).toEqual([]);
    // The daemon goes away without stopping anything (as SIGKILL leaves it), and another starts.
    m.close();
    await f.machine.clearLog();
    const again = await up(f);
    expect(await sysfsWrites(f)).toEqual([]);
    expect(again.getUnit('zephyr.cell')!.details).toMatchObject({ jailhouseState: ADOPTED });
    again.close();
  });
});
