import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ErrnoName } from '../../../src/host/errno.js';
import type { ProcessorDescription } from '../../../src/sim/remoteproc/description.js';
import { firmwareImage } from '../../../src/sim/remoteproc/firmware.js';
import { DEVCD_TIMEOUT_MS, coreAlive, coreOf, hangCore, processorByName, reportCrash, type RprocState } from '../../../src/sim/remoteproc/model.js';
import { heartbeats } from '../../../src/sim/remoteproc/content.js';
import { sysfsTree, writeWaitsForLock } from '../../../src/sim/remoteproc/sysfs.js';
import { CM4, FIRMWARE, RPROC, harness, type Harness } from './kernel-harness.js';

const DEBUG = '/sys/kernel/debug/remoteproc/remoteproc0';
const BOOT_IMAGE = '/boot/m4.elf';

type Start = 'offline' | 'running' | 'attached' | 'detached' | 'crashed';
const STATES: Start[] = ['offline', 'running', 'attached', 'detached', 'crashed'];

/** A processor brought to `state` the way it gets there on a machine (crashed: with recovery disabled). */
function inState(state: Start, extra: Partial<ProcessorDescription> = {}): Harness {
  const bootloader = state === 'attached' || state === 'detached';
  const p: ProcessorDescription = { ...CM4, canDetach: true, ...extra, ...(bootloader ? { runningAtBoot: { image: BOOT_IMAGE } } : {}) };
  const h = harness([p], { files: { [BOOT_IMAGE]: firmwareImage(FIRMWARE) } });
  h.install('rproc-imx-rproc-fw');
  h.load('imx_rproc');
  if (state !== 'offline' && state !== 'detached') expect(h.write(`${RPROC}/state`, 'start\n')).toBeUndefined();
  if (state === 'crashed') {
    expect(h.write(`${RPROC}/recovery`, 'disabled\n')).toBeUndefined();
    expect(h.write(`${DEBUG}/crash`, '1\n')).toBeUndefined();
  }
  expect(h.read(`${RPROC}/state`)).toBe(`${state}\n`);
  return h;
}

const state = (h: Harness) => (h.read(`${RPROC}/state`) as string).trim() as RprocState;
const rproc = (h: Harness) => processorByName(h.model, 'imx-rproc');

describe('state writes in every state (mainline >= v5.19, reference §4)', () => {
  // [errno, state after], straight from the reference's table.
  const TABLE: Record<string, Record<Start, [ErrnoName | undefined, Start]>> = {
    start: { offline: [undefined, 'running'], running: [undefined, 'running'], attached: [undefined, 'attached'], detached: [undefined, 'attached'], crashed: [undefined, 'crashed'] },
    stop: { offline: ['EINVAL', 'offline'], running: [undefined, 'offline'], attached: [undefined, 'offline'], detached: ['EINVAL', 'detached'], crashed: ['EINVAL', 'crashed'] },
    detach: { offline: ['EINVAL', 'offline'], running: ['EINVAL', 'running'], attached: [undefined, 'detached'], detached: ['EINVAL', 'detached'], crashed: ['EINVAL', 'crashed'] },
    reboot: { offline: ['EINVAL', 'offline'], running: ['EINVAL', 'running'], attached: ['EINVAL', 'attached'], detached: ['EINVAL', 'detached'], crashed: ['EINVAL', 'crashed'] },
  };
  for (const [word, row] of Object.entries(TABLE)) {
    for (const from of STATES) {
      const [errno, after] = row[from];
      it(`${word} in ${from}: ${errno ?? 'ok'}, then ${after}`, () => {
        const h = inState(from);
        expect(h.write(`${RPROC}/state`, `${word}\n`)).toBe(errno);
        expect(state(h)).toBe(after);
      });
    }
  }

  it.each(STATES)('firmware= in %s: only offline takes a new name, else EBUSY', (from) => {
    const h = inState(from);
    const { errno, k } = h.writeCall(`${RPROC}/firmware`, 'other-fw\n');
    expect(errno).toBe(from === 'offline' ? undefined : 'EBUSY');
    if (errno) expect(k.lines).toEqual(["remoteproc remoteproc0: can't change firmware while running"]);
    expect(rproc(h)?.firmware).toBe(from === 'offline' ? 'other-fw' : 'rproc-imx-rproc-fw');
  });

  it.each(STATES)('coredump= in %s: EBUSY only while crashed; the three words, else EINVAL', (from) => {
    const h = inState(from);
    expect(h.write(`${RPROC}/coredump`, 'inline\n')).toBe(from === 'crashed' ? 'EBUSY' : undefined);
    expect(h.write(`${RPROC}/coredump`, 'on')).toBe(from === 'crashed' ? 'EBUSY' : 'EINVAL');
  });

  it.each(STATES)('recovery= in %s: enabled, disabled, recover are taken, anything else is EINVAL', (from) => {
    const h = inState(from);
    expect(h.write(`${RPROC}/recovery`, 'off')).toBe('EINVAL');
    expect(h.write(`${RPROC}/recovery`, 'disabled')).toBeUndefined();
    expect(h.read(`${RPROC}/recovery`)).toBe('disabled\n');
    expect(h.write(`${RPROC}/recovery`, 'recover\n')).toBeUndefined();
    expect(h.write(`${RPROC}/recovery`, 'enabled\n')).toBeUndefined();
    expect(h.read(`${RPROC}/recovery`)).toBe('enabled\n');
  });

  it('compares words as sysfs_streq does: one trailing newline, nothing else', () => {
    const h = inState('offline');
    expect(h.write(`${RPROC}/state`, 'start\n\n')).toBe('EINVAL');
    expect(h.write(`${RPROC}/state`, ' start')).toBe('EINVAL');
    expect(h.write(`${RPROC}/state`, 'Start')).toBe('EINVAL');
    expect(state(h)).toBe('offline');
    expect(h.write(`${RPROC}/state`, 'start')).toBeUndefined();
    expect(state(h)).toBe('running');
  });

  it('logs an unrecognised word as the kernel does', () => {
    const h = inState('running');
    expect(h.writeCall(`${RPROC}/state`, 'restart\n').k.lines).toEqual(['remoteproc remoteproc0: Unrecognised option: restart\n']);
  });
});

describe('the power refcount', () => {
  it('a redundant start makes the next stop a successful no-op; the second stop powers off', () => {
    const h = inState('running');
    expect(h.write(`${RPROC}/state`, 'start')).toBeUndefined();
    expect(rproc(h)?.power).toBe(2);
    expect(h.write(`${RPROC}/state`, 'stop')).toBeUndefined();
    expect(state(h)).toBe('running');
    expect(h.write(`${RPROC}/state`, 'stop')).toBeUndefined();
    expect(state(h)).toBe('offline');
    expect(rproc(h)?.power).toBe(0);
    expect(h.write(`${RPROC}/state`, 'stop')).toBe('EINVAL');
  });

  it('a failed start leaves the count where it was', () => {
    const h = inState('offline');
    h.files.clear();
    expect(h.write(`${RPROC}/state`, 'start')).toBe('ENOENT');
    expect(rproc(h)?.power).toBe(0);
    h.install('rproc-imx-rproc-fw');
    expect(h.write(`${RPROC}/state`, 'start')).toBeUndefined();
    expect(state(h)).toBe('running');
  });

  it('detach of an attached processor started twice only drops a user', () => {
    const h = inState('attached');
    expect(h.write(`${RPROC}/state`, 'start')).toBeUndefined();
    expect(h.write(`${RPROC}/state`, 'detach')).toBeUndefined();
    expect(state(h)).toBe('attached');
    expect(h.write(`${RPROC}/state`, 'detach')).toBeUndefined();
    expect(state(h)).toBe('detached');
  });
});

describe('what the driver provides', () => {
  it('without ops->stop, stop is EINVAL and the processor keeps running (TI K3 IPC-only)', () => {
    const h = inState('running', { canStop: false });
    expect(h.write(`${RPROC}/state`, 'stop')).toBe('EINVAL');
    expect(state(h)).toBe('running');
    expect(rproc(h)?.power).toBe(1);
  });

  it('without ops->detach, detach is EINVAL', () => {
    const h = inState('attached', { canDetach: false });
    expect(h.write(`${RPROC}/state`, 'detach')).toBe('EINVAL');
    expect(state(h)).toBe('attached');
  });

  it('the default firmware name is rproc-<name>-fw unless the driver names one; recovery as the driver sets it', () => {
    const h = harness([CM4, { name: 'r5f', driver: 'ti_k3_r5', firmware: 'j7-main-r5f0_0-fw', recoveryDisabled: true }]);
    h.load('imx_rproc', 'ti_k3_r5');
    expect(h.read(`${RPROC}/firmware`)).toBe('rproc-imx-rproc-fw\n');
    expect(h.read('/sys/class/remoteproc/remoteproc1/firmware')).toBe('j7-main-r5f0_0-fw\n');
    expect(h.read('/sys/class/remoteproc/remoteproc1/recovery')).toBe('disabled\n');
    expect(h.read(`${RPROC}/recovery`)).toBe('enabled\n');
    expect(h.read(`${RPROC}/coredump`)).toBe('disabled\n');
  });
});

describe('firmware', () => {
  it('keeps the name up to the first newline; an empty name is EINVAL', () => {
    const h = inState('offline');
    expect(h.write(`${RPROC}/firmware`, 'zephyr.elf\nrest')).toBeUndefined();
    expect(h.read(`${RPROC}/firmware`)).toBe('zephyr.elf\n');
    const { errno, k } = h.writeCall(`${RPROC}/firmware`, '\n');
    expect(errno).toBe('EINVAL');
    expect(k.lines).toEqual(["remoteproc remoteproc0: can't provide empty string for firmware name"]);
  });

  it('a missing file: ENOENT, with the kernel log of a failed request_firmware', () => {
    const h = inState('offline');
    expect(h.write(`${RPROC}/firmware`, 'missing.elf')).toBeUndefined();
    const { errno, k } = h.writeCall(`${RPROC}/state`, 'start\n');
    expect(errno).toBe('ENOENT');
    expect(k.lines).toEqual(['remoteproc remoteproc0: powering up imx-rproc', 'remoteproc remoteproc0: request_firmware failed: -2', 'remoteproc remoteproc0: Boot failed: -2']);
    expect(state(h)).toBe('offline');
  });

  it('an image that is not ELF: EINVAL (bad magic), nothing runs', () => {
    const h = inState('offline');
    h.files.set('/lib/firmware/rproc-imx-rproc-fw', new Uint8Array(64).fill(0x41));
    const { errno, k } = h.writeCall(`${RPROC}/state`, 'start');
    expect(errno).toBe('EINVAL');
    expect(k.lines).toContain('remoteproc remoteproc0: Image is corrupted (bad magic)');
    expect(k.lines).toContain('remoteproc remoteproc0: Boot failed: -22');
    expect(coreOf(h.model, 'imx-rproc').executing).toBe(false);
  });

  it('boots the image found first in the search path', () => {
    const h = harness([CM4], { classPath: '/opt/fw' });
    h.load('imx_rproc');
    h.install('rproc-imx-rproc-fw', { version: 'base' });
    h.install('rproc-imx-rproc-fw', { version: 'class-path' }, '/opt/fw');
    expect(h.write(`${RPROC}/state`, 'start')).toBeUndefined();
    expect(coreOf(h.model, 'imx-rproc').image).toMatchObject({ path: '/opt/fw/rproc-imx-rproc-fw', identity: { version: 'class-path' } });
  });

  it('a boot-fail fault fails that many loads with EINVAL, then the firmware boots', () => {
    const h = inState('offline');
    h.faults.push({ processor: 'imx-rproc', kind: 'boot-fail', times: 2 });
    expect(h.write(`${RPROC}/state`, 'start')).toBe('EINVAL');
    expect(h.write(`${RPROC}/state`, 'start')).toBe('EINVAL');
    expect(h.faults).toEqual([]);
    expect(h.write(`${RPROC}/state`, 'start')).toBeUndefined();
    expect(state(h)).toBe('running');
  });
});

describe('rpmsg channels', () => {
  const TTY_DEVICE = '/sys/bus/rpmsg/devices/virtio0.rpmsg-tty.-1.1024';

  it('the virtio device comes with start, the channels when the firmware has booted, and all go on stop', () => {
    const h = inState('offline');
    h.load('imx_rproc', 'rpmsg_tty');
    h.write(`${RPROC}/state`, 'start');
    expect(h.list('/sys/bus/rpmsg/devices')).toEqual(['virtio0.rpmsg_ctrl.0.0', 'virtio0.rpmsg_ns.53.53']);
    h.after(FIRMWARE.bootMs - 1);
    expect(h.exists(TTY_DEVICE)).toBe(false);
    const k = h.after(1);
    expect(k.lines).toEqual(['virtio_rpmsg_bus virtio0: creating channel rpmsg-tty addr 0x400']);
    expect(h.exists(TTY_DEVICE)).toBe(true);
    expect(rproc(h)?.channels).toEqual([{ service: 'rpmsg-tty', dst: 0x400, tty: 0 }]);
    h.write(`${RPROC}/state`, 'stop');
    expect(h.list('/sys/bus/rpmsg/devices')).toEqual([]);
    expect(rproc(h)?.channels).toEqual([]);
  });

  it('gives ttys only while rpmsg_tty is loaded, lowest free number first', () => {
    const h = harness([CM4, { name: 'm7', driver: 'imx_rproc' }]);
    h.install('rproc-imx-rproc-fw', { services: ['rpmsg-tty', 'rpmsg-raw', 'rpmsg-tty'] });
    h.install('rproc-m7-fw');
    h.load('imx_rproc');
    h.write(`${RPROC}/state`, 'start');
    h.write('/sys/class/remoteproc/remoteproc1/state', 'start');
    h.after(FIRMWARE.bootMs);
    expect(h.model.processors.flatMap((r) => r.channels.map((c) => c.tty))).toEqual([undefined, undefined, undefined, undefined]);
    h.load('imx_rproc', 'rpmsg_tty');
    expect(h.model.processors.map((r) => r.channels.map((c) => c.tty))).toEqual([[0, undefined, 1], [2]]);
    h.write(`${RPROC}/state`, 'stop');
    h.write(`${RPROC}/state`, 'start');
    h.after(FIRMWARE.bootMs);
    expect(h.model.processors.map((r) => r.channels.map((c) => c.tty))).toEqual([[0, undefined, 1], [2]]);
    h.load('imx_rproc');
    expect(h.model.processors.flatMap((r) => r.channels.map((c) => c.tty))).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('a firmware that hangs before it boots announces nothing', () => {
    const h = inState('offline');
    h.write(`${RPROC}/state`, 'start');
    expect(h.call((k) => hangCore(k, 'imx-rproc', 'test'))).toBe(true);
    h.after(10 * FIRMWARE.bootMs);
    expect(rproc(h)?.channels).toEqual([]);
    expect(state(h)).toBe('running');
  });
});

describe('crash and recovery (reference §6)', () => {
  it('with recovery enabled: stopped at once (channels gone), running again after the reload, channels back after boot', () => {
    const h = inState('running', { recoveryMs: 50 });
    h.after(FIRMWARE.bootMs);
    const { k } = h.writeCall(`${DEBUG}/crash`, '2');
    expect(k.lines).toEqual([
      'remoteproc remoteproc0: crash detected in imx-rproc: type fatal error',
      'remoteproc remoteproc0: handling crash #1 in imx-rproc',
      'remoteproc remoteproc0: recovering imx-rproc',
      'remoteproc remoteproc0: stopped remote processor imx-rproc',
    ]);
    expect(state(h)).toBe('offline');
    expect(rproc(h)?.channels).toEqual([]);
    expect(rproc(h)?.power).toBe(1);
    h.after(49);
    expect(state(h)).toBe('offline');
    expect(h.after(1).events.map((e) => [e.op, e.result])).toEqual([['remoteproc recovery', 'ok']]);
    expect(state(h)).toBe('running');
    h.after(FIRMWARE.bootMs);
    expect(rproc(h)?.channels.map((c) => c.service)).toEqual(['rpmsg-tty']);
    expect(rproc(h)?.crashCount).toBe(1);
  });

  it('with recovery disabled: stays crashed with its channels; stop is EINVAL; recover restarts it', () => {
    const h = inState('running');
    h.after(FIRMWARE.bootMs);
    h.write(`${RPROC}/recovery`, 'disabled');
    h.call((k) => reportCrash(k, rproc(h)!, 'watchdog', 'test'));
    h.after(10_000);
    expect(state(h)).toBe('crashed');
    expect(rproc(h)?.channels.map((c) => c.service)).toEqual(['rpmsg-tty']);
    expect(h.write(`${RPROC}/state`, 'stop')).toBe('EINVAL');
    expect(h.write(`${RPROC}/recovery`, 'recover')).toBeUndefined();
    expect(h.read(`${RPROC}/recovery`)).toBe('disabled\n');
    h.after(1000);
    expect(state(h)).toBe('running');
  });

  it.each<[Start, number]>([
    ['crashed', 1],
    ['offline', 0],
    ['detached', 0],
  ])('ignores a crash report while %s (only the first crash of a session Linux runs is handled)', (from, crashes) => {
    const h = inState(from);
    expect(h.call((k) => reportCrash(k, rproc(h)!, 'watchdog', 'test'))).toBe(false);
    expect(rproc(h)?.crashCount).toBe(crashes);
    expect(state(h)).toBe(from);
  });

  it('a recovery whose firmware is gone leaves the processor offline with one user: start is a no-op, stop EINVAL', () => {
    const h = inState('running');
    h.files.clear();
    h.write(`${DEBUG}/crash`, '1');
    const k = h.after(1000);
    expect(k.lines).toContain('remoteproc remoteproc0: request_firmware failed: -2');
    expect(state(h)).toBe('offline');
    expect(rproc(h)?.power).toBe(1);
    h.install('rproc-imx-rproc-fw');
    expect(h.write(`${RPROC}/state`, 'start')).toBeUndefined();
    expect(state(h)).toBe('offline');
    expect(h.write(`${RPROC}/state`, 'stop')).toBe('EINVAL');
  });

  it('writes that take the lock wait while a recovery holds it; disabling recovery does not', () => {
    const h = inState('running');
    h.write(`${DEBUG}/crash`, '1');
    const node = (p: string) => sysfsTree(h.model, h.now()).get(p);
    expect(writeWaitsForLock(node(`${RPROC}/state`), 'stop')?.name).toBe('imx-rproc');
    expect(writeWaitsForLock(node(`${RPROC}/firmware`), 'x')?.name).toBe('imx-rproc');
    expect(writeWaitsForLock(node(`${RPROC}/recovery`), 'recover')?.name).toBe('imx-rproc');
    expect(writeWaitsForLock(node(`${RPROC}/recovery`), 'disabled')).toBeUndefined();
    expect(writeWaitsForLock(node(`${RPROC}/coredump`), 'enabled')).toBeUndefined();
    h.after(1000);
    expect(writeWaitsForLock(node(`${RPROC}/state`), 'stop')).toBeUndefined();
  });

  it('injected crash after N ms of running, once per run, `times` counted', () => {
    const h = inState('running');
    h.faults.push({ processor: 'imx-rproc', kind: 'crash', afterMs: 300, crashType: 'mmufault', times: 2 });
    h.after(299);
    expect(rproc(h)?.crashCount).toBe(0);
    const k = h.after(1);
    expect(k.lines[0]).toBe('remoteproc remoteproc0: crash detected in imx-rproc: type mmufault');
    h.after(100);
    expect(state(h)).toBe('running');
    h.after(299);
    expect(rproc(h)?.crashCount).toBe(1);
    h.after(1);
    expect(rproc(h)?.crashCount).toBe(2);
    h.after(10_000);
    expect(rproc(h)?.crashCount).toBe(2);
    expect(h.faults).toEqual([]);
  });

  it('with RPROC_FEAT_ATTACH_ON_RECOVERY: detaches and attaches again', () => {
    const h = inState('attached', { attachOnRecovery: true });
    h.write(`${DEBUG}/crash`, '0');
    expect(state(h)).toBe('attached');
    expect(h.read(`${RPROC}/firmware`)).toBe('unknown\n');
    expect(coreAlive(coreOf(h.model, 'imx-rproc'))).toBe(true);
  });
});

describe('coredump (reference §7)', () => {
  it('disabled: no dump; enabled: devcd<N> counted from 1, recovery goes on; a second dump while one is there is dropped', () => {
    const h = inState('running');
    h.write(`${DEBUG}/crash`, '1');
    h.after(1000);
    expect(h.list('/sys/class/devcoredump')).toEqual(['disabled']);
    h.write(`${RPROC}/coredump`, 'enabled');
    h.write(`${DEBUG}/crash`, '1');
    expect(h.list('/sys/class/devcoredump')).toEqual(['devcd1', 'disabled']);
    h.after(1000);
    expect(state(h)).toBe('running');
    const dropped = h.writeCall(`${DEBUG}/crash`, '1').k;
    h.after(1000);
    expect(h.list('/sys/class/devcoredump')).toEqual(['devcd1', 'disabled']);
    expect(h.model.devcoredumps.map((d) => d.crash)).toEqual([2]);
    expect(dropped.events).toContainEqual(expect.objectContaining({ op: 'remoteproc coredump', result: 'dropped' }));
    expect(h.write('/sys/class/devcoredump/devcd1/data', '1')).toBeUndefined();
    expect(h.list('/sys/class/devcoredump')).toEqual(['disabled']);
    h.write(`${DEBUG}/crash`, '1');
    expect(h.list('/sys/class/devcoredump')).toEqual(['devcd2', 'disabled']);
  });

  it('inline: the recovery waits until the dump is deleted', () => {
    const h = inState('running');
    h.write(`${RPROC}/coredump`, 'inline');
    h.write(`${DEBUG}/crash`, '1');
    h.after(60_000);
    expect(state(h)).toBe('offline');
    expect(rproc(h)?.recovery).toEqual({ phase: 'dump', devcd: 1 });
    h.write('/sys/class/devcoredump/devcd1/data', 'x');
    h.after(1000);
    expect(state(h)).toBe('running');
  });

  it('a dump deletes itself after five minutes (and an inline one releases the recovery)', () => {
    const h = inState('running');
    h.write(`${RPROC}/coredump`, 'inline');
    h.write(`${DEBUG}/crash`, '1');
    h.after(DEVCD_TIMEOUT_MS - 1);
    expect(h.list('/sys/class/devcoredump')).toEqual(['devcd1', 'disabled']);
    h.after(1);
    expect(h.list('/sys/class/devcoredump')).toEqual(['disabled']);
    h.after(1000);
    expect(state(h)).toBe('running');
  });

  it('/sys/class/devcoredump/disabled takes only 1, for good', () => {
    const h = inState('running');
    expect(h.write('/sys/class/devcoredump/disabled', '0')).toBe('EINVAL');
    expect(h.write('/sys/class/devcoredump/disabled', '1\n')).toBeUndefined();
    expect(h.read('/sys/class/devcoredump/disabled')).toBe('1\n');
    expect(h.write('/sys/class/devcoredump/disabled', '0')).toBe('EINVAL');
    h.write(`${RPROC}/coredump`, 'enabled');
    h.write(`${DEBUG}/crash`, '1');
    expect(h.list('/sys/class/devcoredump')).toEqual(['disabled']);
  });
});

describe('a core the bootloader started (reference §8)', () => {
  it('is registered detached; start attaches (firmware reads unknown), channels come at once; detach lets it run on', () => {
    const h = inState('detached');
    expect(h.read(`${RPROC}/firmware`)).toBe('rproc-imx-rproc-fw\n');
    h.load('imx_rproc', 'rpmsg_tty');
    h.after(FIRMWARE.bootMs);
    const { k } = h.writeCall(`${RPROC}/state`, 'start');
    expect(k.lines).toEqual(['remoteproc remoteproc0: attaching to imx-rproc', 'remoteproc remoteproc0: remote processor imx-rproc is now attached']);
    expect(h.read(`${RPROC}/firmware`)).toBe('unknown\n');
    h.after(0);
    expect(rproc(h)?.channels).toEqual([{ service: 'rpmsg-tty', dst: 0x400, tty: 0 }]);
    expect(h.write(`${RPROC}/firmware`, 'x')).toBe('EBUSY');
    expect(h.write(`${RPROC}/state`, 'detach')).toBeUndefined();
    expect(rproc(h)?.channels).toEqual([]);
    expect(coreAlive(coreOf(h.model, 'imx-rproc'))).toBe(true);
  });

  it('with auto-boot it is attached as soon as the driver registers it', () => {
    const h = harness([{ ...CM4, autoBoot: true, runningAtBoot: { image: BOOT_IMAGE } }], { files: { [BOOT_IMAGE]: firmwareImage(FIRMWARE) } });
    const k = h.load('imx_rproc');
    expect(state(h)).toBe('attached');
    expect(k.events.map((e) => e.op)).toEqual(['remoteproc add', 'remoteproc auto-boot']);
    // The firmware started with the machine: it announces once it has booted.
    expect(h.after(FIRMWARE.bootMs).events.map((e) => e.op)).toEqual(['rpmsg announce']);
  });

  it('an offline processor with auto-boot boots its default firmware when registered, or stays offline without it', () => {
    const h = harness([{ ...CM4, autoBoot: true }]);
    h.load('imx_rproc');
    expect(state(h)).toBe('offline');
    h.load();
    h.install('rproc-imx-rproc-fw');
    h.load('imx_rproc');
    expect(state(h)).toBe('running');
  });

  it('unloading the driver shuts a running processor down and removes it; a detached core keeps running', () => {
    const h = inState('running');
    h.load();
    expect(h.list('/sys/class/remoteproc')).toEqual([]);
    expect(coreOf(h.model, 'imx-rproc').executing).toBe(false);
    h.load('imx_rproc');
    expect(state(h)).toBe('offline');
    const d = inState('detached');
    d.load();
    d.load('imx_rproc');
    expect(state(d)).toBe('detached');
  });
});

describe('hang', () => {
  it('the state stays running; heartbeats stop counting', () => {
    const h = inState('running');
    h.after(FIRMWARE.bootMs + 5 * FIRMWARE.heartbeatMs);
    const core = () => coreOf(h.model, 'imx-rproc');
    expect(heartbeats(core(), h.now())).toBe(6);
    h.faults.push({ processor: 'imx-rproc', kind: 'hang', times: 1 });
    h.after(0);
    h.after(10 * FIRMWARE.heartbeatMs);
    expect(state(h)).toBe('running');
    expect(heartbeats(core(), h.now())).toBe(6);
    h.write(`${RPROC}/state`, 'stop');
    h.write(`${RPROC}/state`, 'start');
    h.after(FIRMWARE.bootMs);
    expect(heartbeats(core(), h.now())).toBe(1);
  });
});

describe('invariants over random operations (property)', () => {
  const OPS = ['start', 'stop', 'detach', 'fw', 'crash', 'hang', 'recover', 'disable', 'enable', 'inline', 'delete-dumps', 'unload', 'load', 'wait'] as const;
  it('power never negative; channels only on a virtio device of a running, attached or crashed processor; the core executes exactly when Linux says so', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.tuple(fc.constantFrom(...OPS), fc.integer({ min: 0, max: 400 })), { maxLength: 40 }), (bootloader, ops) => {
        const p: ProcessorDescription = { ...CM4, canDetach: true, ...(bootloader ? { runningAtBoot: { image: BOOT_IMAGE } } : {}) };
        const h = harness([p], { files: { [BOOT_IMAGE]: firmwareImage(FIRMWARE) } });
        h.install('rproc-imx-rproc-fw');
        h.load('imx_rproc', 'rpmsg_tty');
        for (const [op, ms] of ops) {
          if (op === 'start' || op === 'stop' || op === 'detach') h.write(`${RPROC}/state`, op);
          else if (op === 'fw') h.write(`${RPROC}/firmware`, 'rproc-imx-rproc-fw');
          else if (op === 'crash') h.write(`${DEBUG}/crash`, '1');
          else if (op === 'hang') h.call((k) => hangCore(k, 'imx-rproc', 'test'));
          else if (op === 'recover' || op === 'disable' || op === 'enable') h.write(`${RPROC}/recovery`, op === 'recover' ? op : `${op}d`);
          else if (op === 'inline') h.write(`${RPROC}/coredump`, 'inline');
          else if (op === 'delete-dumps') for (const d of [...h.model.devcoredumps]) h.write(`/sys/class/devcoredump/devcd${d.id}/data`, '1');
          else if (op === 'unload') h.load('rpmsg_tty');
          else if (op === 'load') h.load('imx_rproc', 'rpmsg_tty');
          h.after(ms);
          for (const x of h.model.processors) {
            expect(x.power).toBeGreaterThanOrEqual(0);
            if (x.channels.length > 0) expect(x.vdev).toBeDefined();
            if (x.vdev) expect(['running', 'attached', 'crashed']).toContain(x.state);
            if (x.state === 'running' || x.state === 'attached' || x.state === 'detached') expect(coreOf(h.model, x.name).executing).toBe(true);
            if (x.state === 'offline' && x.recovery === undefined) expect(coreOf(h.model, x.name).executing).toBe(false);
          }
          const ttys = h.model.processors.flatMap((x) => x.channels.flatMap((c) => (c.tty === undefined ? [] : [c.tty])));
          expect(new Set(ttys).size).toBe(ttys.length);
        }
      }),
      { numRuns: 200 },
    );
  });
});
