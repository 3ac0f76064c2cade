/**
 * The remoteproc port on the simulated i.MX8M, one sysfs write at a time: what each operation
 * writes, what it leaves alone (a running processor is never started twice, an offline one never
 * stopped), and every refusal of the kernel (reference: remoteproc sysfs, §4) turned into an
 * error that names the processor, the attribute, the value, the state and what to do.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simHost, type SimHost } from '../helpers.js';
import { ADOPTED, remoteprocBackend } from '../../../src/backends/remoteproc/backend.js';
import type { RemoteprocFacts } from '../../../src/backends/remoteproc/facts.js';
import { readRemoteproc } from '../../../src/backends/remoteproc/sysfs.js';
import { HostError } from '../../../src/host/host-error.js';
import { sysfsWrites } from '../../engine/remoteproc-fixture.js';
import { REMOTEPROC_DESCRIPTION, REMOTEPROC_FIRMWARE_FILE } from '../../../src/sim/index.js';

const SETTINGS: RemoteprocFacts = { cell: 'zephyr', processor: 'imx-rproc', recovery: true, coredump: 'disabled', bootloader: false, firmwareDir: '/lib/firmware', firmwareName: 'crtos-imx-rproc.elf' };
const FIRMWARE = [{ file: REMOTEPROC_FIRMWARE_FILE }];

describe('remoteproc operations on the simulated i.MX8M', () => {
  let s: SimHost;
  const ops = (settings: Partial<RemoteprocFacts> = {}) => remoteprocBackend.partitions!.bind!({ cellName: 'imx-rproc', remoteproc: { ...SETTINGS, ...settings } });
  const state = async () => (await readRemoteproc(s.host)).processors[0]!;
  const writes = () => sysfsWrites(s);
  /** Brings the processor back offline with the kernel's defaults, the firmware not installed. */
  const reset = async () => {
    await ops().destroy(s.host, 'imx-rproc');
    await s.machine.setProcessorFaults([]);
    const p = await state();
    if (p.recovery !== 'enabled') writeFileSync(join(s.machine.dir, 'sys/class/remoteproc', p.dir, 'recovery'), 'enabled');
    if (p.coredump !== 'disabled') writeFileSync(join(s.machine.dir, 'sys/class/remoteproc', p.dir, 'coredump'), 'disabled');
    rmSync(join(s.machine.dir, 'lib/firmware/crtos-imx-rproc.elf'), { force: true });
    await s.machine.clearLog();
  };
  const refusedWith = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(HostError);
    return e as HostError;
  };

  beforeAll(async () => {
    s = await simHost(REMOTEPROC_DESCRIPTION);
  });
  afterAll(async () => s.cleanup());
  beforeEach(reset);

  test('observe: an offline processor is no partition; a running one is, by its name', async () => {
    expect((await remoteprocBackend.observe!(s.host)).partitions).toEqual([]);
    await ops().load(s.host, 'imx-rproc', FIRMWARE);
    await ops().start(s.host, 'imx-rproc');
    const status = await remoteprocBackend.observe!(s.host);
    expect(status.enabled).toBe(true);
    expect(status.partitions).toEqual([{ id: 0, name: 'imx-rproc', state: 'running', phase: 'running', cpus: [], failedCpus: [] }]);
    expect(await remoteprocBackend.changed!(s.host, status)).toBe(false);
  });

  test('create writes only the settings that differ from the kernel\'s; a processor that runs already is EEXIST (taken as found)', async () => {
    await ops().create(s.host, '/unused', 'imx-rproc');
    expect(await writes()).toEqual([]);
    await ops({ recovery: false, coredump: 'enabled' }).create(s.host, '/unused', 'imx-rproc');
    expect(await writes()).toEqual(['recovery disabled', 'coredump enabled']);
    expect(await state()).toMatchObject({ recovery: 'disabled', coredump: 'enabled' });
    await ops().load(s.host, 'imx-rproc', FIRMWARE);
    await ops().start(s.host, 'imx-rproc');
    expect((await refusedWith(ops().create(s.host, '/unused', 'imx-rproc'))).errno).toBe('EEXIST');
  });

  test('start of a running processor writes nothing (a second start would make the next stop a no-op); stop of an offline one writes nothing', async () => {
    await ops().load(s.host, 'imx-rproc', FIRMWARE);
    await ops().start(s.host, 'imx-rproc');
    await ops().start(s.host, 'imx-rproc');
    await ops().shutdown(s.host, 'imx-rproc');
    await ops().shutdown(s.host, 'imx-rproc');
    expect(await writes()).toEqual(['firmware crtos-imx-rproc.elf', 'state start', 'state stop']);
    expect((await state()).state).toBe('offline');
  });

  test('the firmware is installed only when its bytes differ', async () => {
    await ops().load(s.host, 'imx-rproc', FIRMWARE);
    const installed = join(s.machine.dir, 'lib/firmware/crtos-imx-rproc.elf');
    const { ino } = statSync(installed);
    await ops().load(s.host, 'imx-rproc', FIRMWARE);
    // installFile renames a new file over the target: the same inode means it was left alone.
    expect(statSync(installed).ino).toBe(ino);
  });

  test('a boot the ELF checks refuse: EINVAL, explained', async () => {
    await s.machine.setProcessorFaults([{ processor: 'imx-rproc', kind: 'boot-fail' }]);
    await ops().load(s.host, 'imx-rproc', FIRMWARE);
    const e = await refusedWith(ops().start(s.host, 'imx-rproc'));
    expect(e.errno).toBe('EINVAL');
    expect(e.message).toBe('the kernel refused "start" for state of processor imx-rproc (remoteproc0, offline) with EINVAL: the kernel could not boot the firmware (its ELF or resource table was refused; dmesg: Boot failed: -22)');
    expect(e.hint).toContain('crtos-imx-rproc.elf is an ELF built for imx-rproc');
  });

  test('a firmware outside the search path: ENOENT names the file and where to put it', async () => {
    await ops({ firmwareDir: '/opt/zephyr/installed' }).load(s.host, 'imx-rproc', FIRMWARE);
    const e = await refusedWith(ops().start(s.host, 'imx-rproc'));
    expect(e.errno).toBe('ENOENT');
    expect(e.message).toContain("the firmware file crtos-imx-rproc.elf is not in the kernel's firmware search path");
    expect(e.hint).toContain('/lib/firmware');
  });

  test('a new firmware while it runs: EBUSY, "stop it first"', async () => {
    await ops().load(s.host, 'imx-rproc', FIRMWARE);
    await ops().start(s.host, 'imx-rproc');
    const e = await refusedWith(ops().load(s.host, 'imx-rproc', FIRMWARE));
    expect(e.errno).toBe('EBUSY');
    expect(e.message).toContain('for firmware of processor imx-rproc (remoteproc0, running) with EBUSY: the firmware can only be changed while the processor is offline');
    expect(e.hint).toMatch(/^stop it first/);
  });

  test('a crashed processor with recovery disabled is recovered, then stopped (stop alone is EINVAL there)', async () => {
    await ops({ recovery: false }).create(s.host, '/unused', 'imx-rproc');
    await ops().load(s.host, 'imx-rproc', FIRMWARE);
    await ops().start(s.host, 'imx-rproc');
    await s.machine.crashProcessor('imx-rproc');
    expect((await state()).state).toBe('crashed');
    expect(remoteprocBackend.transition!(await remoteprocBackend.observe!(s.host), ['imx-rproc'])).toBeUndefined();
    await s.machine.clearLog();
    await ops().destroy(s.host, 'imx-rproc');
    expect(await writes()).toEqual(['recovery recover', 'state stop']);
    expect(await state()).toMatchObject({ state: 'offline', recovery: 'disabled' });
  });

  test('an unknown processor: ENOENT naming the ones there are', async () => {
    const e = await refusedWith(ops().start(s.host, 'm7'));
    expect(e.errno).toBe('ENOENT');
    expect(e.message).toBe('no remote processor named m7 in /sys/class/remoteproc (there: imx-rproc)');
  });
});

describe('a core the bootloader started, not attached yet (detached)', () => {
  let s: SimHost;
  beforeAll(async () => {
    s = await simHost({ ...REMOTEPROC_DESCRIPTION, remoteproc: { processors: [{ name: 'imx-rproc', driver: 'imx_rproc', runningAtBoot: { image: REMOTEPROC_FIRMWARE_FILE } }] } });
  });
  afterAll(async () => s.cleanup());
  const ops = (bootloader: boolean) => remoteprocBackend.partitions!.bind!({ cellName: 'imx-rproc', remoteproc: { ...SETTINGS, bootloader } });

  test('is a shut-down partition; its firmware is never replaced (without bootloader: true the load says why); a stop leaves it (Linux does not run it), start attaches it', async () => {
    expect((await remoteprocBackend.observe!(s.host)).partitions).toMatchObject([{ name: 'imx-rproc', state: 'detached', phase: 'shut-down' }]);
    const e = await ops(false).load(s.host, 'imx-rproc', FIRMWARE).then(() => undefined, (err: unknown) => err as HostError);
    expect(e).toMatchObject({ errno: 'EBUSY', message: 'processor imx-rproc runs a firmware the bootloader started (detached); crtosd does not replace it', hint: expect.stringMatching(/^set `bootloader: true`/) });
    await ops(true).destroy(s.host, 'imx-rproc');
    await ops(true).load(s.host, 'imx-rproc', FIRMWARE);
    expect(await sysfsWrites(s)).toEqual([]);
    await ops(true).start(s.host, 'imx-rproc');
    expect(await sysfsWrites(s)).toEqual(['state start']);
    expect((await remoteprocBackend.observe!(s.host)).partitions).toMatchObject([{ name: 'imx-rproc', state: ADOPTED, phase: 'running' }]);
  });
});
