/**
 * The simulated remoteproc kernel through its FUSE mounts, as crtosd's backend will use it: plain
 * file writes that get the kernel's errno, rpmsg ttys, crashes and recoveries, the operation log,
 * and no mount left behind. A machine that cannot mount FUSE fails here with the reason
 * (HOST_SIM_FUSE_UNAVAILABLE), it is never skipped.
 */
import { describe, expect, it } from 'vitest';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, openSync, readSync, readlinkSync, realpathSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createSimMachine, destroySimMachine, type SimMachine } from '../../../src/sim/index.js';
import { REMOTEPROC_DESCRIPTION, REMOTEPROC_FIRMWARE_FILE } from '../../../src/sim/remoteproc/example.js';
import { kernelPaths, readKernelInfo } from '../../../src/sim/remoteproc/files.js';
import { fuseMountsUnder } from '../../../src/sim/remoteproc/mounts.js';
import { SYSFS_MOUNTS } from '../../../src/sim/remoteproc/sysfs.js';
import { startKernel, stopKernel } from '../../../src/sim/remoteproc/control.js';
import { heartbeats } from '../../../src/sim/remoteproc/content.js';
import type { ProcessorDescription } from '../../../src/sim/remoteproc/description.js';
import type { Rproc } from '../../../src/sim/remoteproc/model.js';
import { changesOf, dataOf, eventsOf, every, until, waitFor } from '../../helpers/wait-for.js';
import { tempMachine, untilMachine } from '../helpers.js';

const RPROC = 'sys/class/remoteproc/remoteproc0';
const DEVICES = 'sys/bus/rpmsg/devices';
const TTY_CHANNEL = 'virtio0.rpmsg-tty.-1.1024';

const at = (m: SimMachine, path: string) => join(m.dir, path);
const errnoOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
};
const put = (m: SimMachine, path: string, value: string) => errnoOf(() => writeFileSync(at(m, path), value));
const get = (m: SimMachine, path: string) => readFileSync(at(m, path), 'utf8');
const processor = async (m: SimMachine, name = 'imx-rproc'): Promise<Rproc | undefined> => (await m.remoteproc()).processors.find((r) => r.name === name);

function withProcessors(processors: ProcessorDescription[]) {
  return { ...REMOTEPROC_DESCRIPTION, remoteproc: { processors } };
}

/** The example machine with its firmware installed as the default name, started, its channels up. */
async function runningMachine(description = REMOTEPROC_DESCRIPTION): Promise<SimMachine> {
  const m = await tempMachine(description);
  install(m, 'rproc-imx-rproc-fw');
  expect(put(m, `${RPROC}/state`, 'start\n')).toBe('ok');
  await untilMachine(m, 'the rpmsg tty channel', async () => (await processor(m))?.channels[0]?.tty === 0);
  return m;
}

function install(m: SimMachine, name: string, dir = 'lib/firmware'): void {
  mkdirSync(at(m, dir), { recursive: true });
  copyFileSync(at(m, REMOTEPROC_FIRMWARE_FILE), at(m, `${dir}/${name}`));
}

/** A client of /dev/ttyRPMSG<k>: what it received, and whether the tty hung up. */
async function ttyClient(m: SimMachine, k = 0) {
  const socket: Socket = connect(kernelPaths.tty(m.dir, k));
  await waitFor(`connected to ttyRPMSG${k}`, () => (socket.readyState === 'open' ? true : undefined), { sources: [eventsOf(socket, 'connect')], timeoutMs: 5000 });
  let received = '';
  let closed = false;
  socket.on('data', (d) => (received += d.toString()));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return {
    socket,
    received: () => received,
    closed: () => closed,
    async says(text: string) {
      await until(`${JSON.stringify(text)} on ttyRPMSG${k}`, () => received.includes(text), { sources: [dataOf(socket)], timeoutMs: 5000 });
    },
    async hangsUp() {
      await until(`ttyRPMSG${k} hung up`, () => closed, { sources: [eventsOf(socket, 'close')], timeoutMs: 5000 });
    },
  };
}

const writes = async (m: SimMachine) => (await m.readLog()).filter((e) => e.op === 'sysfs write').map((e) => [e.args[0]?.replace(/^\/sys\/class\/remoteproc\/remoteproc0\//, ''), e.args[1], e.result]);

describe('the remoteproc sysfs over FUSE', () => {
  it('is mounted where the backend looks; writes get the kernel errno; each one is in the operation log', async () => {
    const m = await tempMachine(REMOTEPROC_DESCRIPTION);
    expect(fuseMountsUnder(m.dir).sort()).toEqual(SYSFS_MOUNTS.map((p) => join(m.dir, p)).sort());
    expect(readdirSync(at(m, 'sys/class/remoteproc'))).toEqual(['remoteproc0']);
    expect(['name', 'firmware', 'state', 'recovery', 'coredump'].map((a) => get(m, `${RPROC}/${a}`))).toEqual(['imx-rproc\n', 'rproc-imx-rproc-fw\n', 'offline\n', 'enabled\n', 'disabled\n']);
    expect(put(m, `${RPROC}/state`, 'stop\n')).toBe('EINVAL');
    expect(put(m, `${RPROC}/state`, 'start\n')).toBe('ENOENT');
    expect(put(m, `${RPROC}/name`, 'x')).toBe('EACCES');
    install(m, 'zephyr.elf', 'lib/firmware/updates');
    expect(put(m, `${RPROC}/firmware`, 'zephyr.elf\n')).toBe('ok');
    expect(put(m, `${RPROC}/state`, 'start\n')).toBe('ok');
    expect(get(m, `${RPROC}/state`)).toBe('running\n');
    expect(put(m, `${RPROC}/firmware`, 'other.elf\n')).toBe('EBUSY');
    expect(put(m, `${RPROC}/state`, 'reboot\n')).toBe('EINVAL');
    expect(put(m, `${RPROC}/coredump`, 'inline\n')).toBe('ok');
    expect(put(m, `${RPROC}/uevent`, 'x')).toBe('EACCES');
    expect(await writes(m)).toEqual([
      ['state', 'stop\n', 'EINVAL'],
      ['state', 'start\n', 'ENOENT'],
      ['name', '', 'EACCES'],
      ['firmware', 'zephyr.elf\n', 'ok'],
      ['state', 'start\n', 'ok'],
      ['firmware', 'other.elf\n', 'EBUSY'],
      ['state', 'reboot\n', 'EINVAL'],
      ['coredump', 'inline\n', 'ok'],
    ]);
    const failed = (await m.readLog()).find((e) => e.op === 'sysfs write' && e.result === 'ENOENT');
    expect(failed?.detail).toMatchObject({ pid: process.pid, processor: 'imx-rproc', kernelLog: ['remoteproc remoteproc0: powering up imx-rproc', 'remoteproc remoteproc0: request_firmware failed: -2', 'remoteproc remoteproc0: Boot failed: -2'] });
    expect((await processor(m))?.power).toBe(1);
  });

  it('an open attribute keeps the text of its first read, as kernfs does; a new open reads anew', async () => {
    const m = await tempMachine(REMOTEPROC_DESCRIPTION);
    install(m, 'rproc-imx-rproc-fw');
    const fd = openSync(at(m, `${RPROC}/state`), 'r');
    try {
      const head = Buffer.alloc(3);
      expect(readSync(fd, head, 0, 3, 0)).toBe(3);
      expect(put(m, `${RPROC}/state`, 'start')).toBe('ok');
      const rest = Buffer.alloc(100);
      const n = readSync(fd, rest, 0, 100, 3);
      expect(head.toString() + rest.subarray(0, n).toString()).toBe('offline\n');
      expect(readSync(fd, rest, 0, 100, 0)).toBe('running\n'.length);
      expect(get(m, `${RPROC}/state`)).toBe('running\n');
    } finally {
      closeSync(fd);
    }
  });

  it('shows the rpmsg device and the tty once the firmware has booted; the tty answers ping; both go on stop', async () => {
    const m = await runningMachine();
    expect(readdirSync(at(m, DEVICES)).sort()).toEqual([TTY_CHANNEL, 'virtio0.rpmsg_ctrl.0.0', 'virtio0.rpmsg_ns.53.53']);
    expect(get(m, `${DEVICES}/${TTY_CHANNEL}/name`)).toBe('rpmsg-tty\n');
    const tty = await ttyClient(m);
    tty.socket.write('ping\nhello world\n');
    await tty.says('pong\nhello world\n');
    expect(put(m, `${RPROC}/state`, 'stop')).toBe('ok');
    await tty.hangsUp();
    expect(existsSync(kernelPaths.tty(m.dir, 0))).toBe(false);
    expect(readdirSync(at(m, DEVICES))).toEqual([]);
    expect(get(m, `${RPROC}/state`)).toBe('offline\n');
  });

  it('a crash with recovery enabled: the tty hangs up, the kernel recovers, the channel comes back', async () => {
    const m = await runningMachine();
    const tty = await ttyClient(m);
    await m.crashProcessor('imx-rproc');
    await tty.hangsUp();
    await untilMachine(m, 'recovered with its channel', async () => {
      const r = await processor(m);
      return r?.state === 'running' && r.crashCount === 1 && r.channels[0]?.tty === 0;
    });
    expect(get(m, `${RPROC}/state`)).toBe('running\n');
    const log = await m.readLog();
    expect(log.filter((e) => e.op.startsWith('remoteproc ') && e.op !== 'remoteproc add').map((e) => [e.op, e.result])).toEqual([
      ['remoteproc crash', 'crashed'],
      ['remoteproc recovery', 'ok'],
    ]);
    const again = await ttyClient(m);
    again.socket.write('ping\n');
    await again.says('pong\n');
  });

  it('a crash with recovery disabled stays crashed with its channel (the firmware answers nothing); `recover` restarts it', async () => {
    const m = await runningMachine();
    expect(put(m, `${RPROC}/recovery`, 'disabled\n')).toBe('ok');
    await m.crashProcessor('imx-rproc', 'fatal error');
    expect(get(m, `${RPROC}/state`)).toBe('crashed\n');
    expect(put(m, `${RPROC}/state`, 'stop')).toBe('EINVAL');
    expect(put(m, `${RPROC}/coredump`, 'enabled')).toBe('EBUSY');
    expect(readdirSync(at(m, DEVICES))).toContain(TTY_CHANNEL);
    expect(existsSync(kernelPaths.tty(m.dir, 0))).toBe(true);
    expect(put(m, `${RPROC}/recovery`, 'recover\n')).toBe('ok');
    await untilMachine(m, 'running again', async () => (await processor(m))?.state === 'running');
    expect(get(m, `${RPROC}/recovery`)).toBe('disabled\n');
  });

  it('a coredump: devcd1 with the ELF core and failing_device; writing data deletes it', async () => {
    const m = await runningMachine();
    expect(put(m, `${RPROC}/coredump`, 'enabled')).toBe('ok');
    expect(put(m, 'sys/kernel/debug/remoteproc/remoteproc0/crash', '1')).toBe('ok');
    expect(readdirSync(at(m, 'sys/class/devcoredump')).sort()).toEqual(['devcd1', 'disabled']);
    expect(readFileSync(at(m, 'sys/class/devcoredump/devcd1/data')).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(readlinkSync(at(m, 'sys/class/devcoredump/devcd1/failing_device'))).toBe('../../remoteproc/remoteproc0');
    expect(realpathSync(at(m, 'sys/class/devcoredump/devcd1/failing_device'))).toBe(realpathSync(at(m, RPROC)));
    expect(put(m, 'sys/class/devcoredump/devcd1/data', '1')).toBe('ok');
    expect(readdirSync(at(m, 'sys/class/devcoredump'))).toEqual(['disabled']);
  });

  it('an inline coredump holds the recovery, and a stop written meanwhile waits for it (rproc->lock)', async () => {
    const m = await runningMachine();
    expect(put(m, `${RPROC}/coredump`, 'inline')).toBe('ok');
    await m.crashProcessor('imx-rproc');
    expect(get(m, `${RPROC}/state`)).toBe('offline\n');
    const stop = writeFile(at(m, `${RPROC}/state`), 'stop\n');
    await untilMachine(m, 'the stop waiting for the lock', async () => (await m.readLog()).some((e) => e.op === 'sysfs write waiting'));
    const waiting = (await m.readLog()).find((e) => e.op === 'sysfs write waiting');
    expect(waiting).toMatchObject({ args: ['/sys/class/remoteproc/remoteproc0/state', 'stop\n'], result: 'locked', detail: { processor: 'imx-rproc', recovery: 'dump' } });
    expect((await writes(m)).filter(([p]) => p === 'state')).toEqual([['state', 'start\n', 'ok']]);
    expect(put(m, 'sys/class/devcoredump/devcd1/data', '1')).toBe('ok');
    await stop;
    expect(get(m, `${RPROC}/state`)).toBe('offline\n');
    expect((await writes(m)).slice(-2)).toEqual([
      ['/sys/class/devcoredump/devcd1/data', '1', 'ok'],
      ['state', 'stop\n', 'ok'],
    ]);
  });

  it('a fault crashes the firmware after it ran so long; a boot-fail fault makes start EINVAL', async () => {
    const m = await tempMachine(REMOTEPROC_DESCRIPTION);
    install(m, 'rproc-imx-rproc-fw');
    await m.setProcessorFaults([
      { processor: 'imx-rproc', kind: 'boot-fail', times: 1 },
      { processor: 'imx-rproc', kind: 'crash', afterMs: 150, times: 1 },
    ]);
    expect(put(m, `${RPROC}/state`, 'start')).toBe('EINVAL');
    expect(put(m, `${RPROC}/state`, 'start')).toBe('ok');
    await untilMachine(m, 'the injected crash and the recovery', async () => (await m.readLog()).some((e) => e.op === 'remoteproc recovery'));
    const crash = (await m.readLog()).find((e) => e.op === 'remoteproc crash');
    expect(crash?.detail).toMatchObject({ by: 'fault', type: 'watchdog' });
    expect((await m.faults()).processorFaults).toEqual([]);
  });

  it('adopts a core the bootloader started: detached, attached by start (firmware reads unknown), channels come', async () => {
    const m = await tempMachine(withProcessors([{ name: 'imx-rproc', driver: 'imx_rproc', runningAtBoot: { image: REMOTEPROC_FIRMWARE_FILE } }]));
    expect(get(m, `${RPROC}/state`)).toBe('detached\n');
    expect(put(m, `${RPROC}/state`, 'start')).toBe('ok');
    expect(get(m, `${RPROC}/state`)).toBe('attached\n');
    expect(get(m, `${RPROC}/firmware`)).toBe('unknown\n');
    await untilMachine(m, 'the channel of the running firmware', async () => (await processor(m))?.channels[0]?.tty === 0);
    expect(readFileSync(at(m, 'sys/kernel/debug/remoteproc/remoteproc0/trace0'), 'utf8')).toMatch(/^\*\*\* Booting zephyr-openamp-rsc-table version 1 \*\*\*\n/);
    expect(put(m, `${RPROC}/state`, 'detach')).toBe('EINVAL');
  });

  it('with auto-boot the bootloader-started core is attached before anyone looks', async () => {
    const m = await tempMachine(withProcessors([{ name: 'imx-rproc', driver: 'imx_rproc', autoBoot: true, runningAtBoot: { image: REMOTEPROC_FIRMWARE_FILE } }]));
    expect(get(m, `${RPROC}/state`)).toBe('attached\n');
  });

  it('the processor goes with its driver module and comes back with it', async () => {
    const m = await tempMachine(REMOTEPROC_DESCRIPTION);
    expect((await m.runInProcess('rmmod', ['imx_rproc'])).code).toBe(0);
    expect(readdirSync(at(m, 'sys/class/remoteproc'))).toEqual([]);
    expect((await m.runInProcess('modprobe', ['imx_rproc'])).code).toBe(0);
    expect(readdirSync(at(m, 'sys/class/remoteproc'))).toEqual(['remoteproc0']);
  });

  it('the heartbeat in trace0 stops when the firmware hangs, while the state stays running', async () => {
    const m = await tempMachine(withProcessors([
      { name: 'imx-rproc', driver: 'imx_rproc' },
      { name: 'other', driver: 'imx_rproc' },
    ]));
    install(m, 'rproc-imx-rproc-fw');
    install(m, 'rproc-other-fw');
    expect(put(m, `${RPROC}/state`, 'start')).toBe('ok');
    expect(put(m, 'sys/class/remoteproc/remoteproc1/state', 'start')).toBe('ok');
    const beat = (n: number) => {
      const lines = readFileSync(at(m, `sys/kernel/debug/remoteproc/remoteproc${n}/trace0`), 'utf8').trimEnd().split('\n');
      return Number(/^heartbeat (\d+)$/.exec(lines.at(-1) ?? '')?.[1] ?? 0);
    };
    // Nothing announces a trace line (nor does debugfs on a real machine): look on each tick.
    await until('a heartbeat of the first core', () => beat(0) >= 1, { sources: [every(20)], timeoutMs: 5000 });
    await m.hangProcessor('imx-rproc');
    const hungAt = beat(0);
    const model = await m.remoteproc();
    expect(heartbeats(model.cores['imx-rproc']!, Date.now())).toBe(hungAt);
    const other = beat(1);
    await until('three more heartbeats of the other core', () => beat(1) >= other + 3, { sources: [every(20)], timeoutMs: 5000 });
    expect(beat(0)).toBe(hungAt);
    expect(get(m, `${RPROC}/state`)).toBe('running\n');
  });
});

describe('a machine where FUSE cannot be mounted', () => {
  it('is refused with HOST_SIM_FUSE_UNAVAILABLE, the bridge\'s reason and what to install; nothing stays mounted or running', async () => {
    const base = mkdtempSync(join(tmpdir(), 'crtos-sim-'));
    const dir = join(base, 'machine');
    // A bridge that fails as fusepy does on a machine without /dev/fuse.
    const fake = join(base, 'bridge.sh');
    writeFileSync(fake, "echo \"fuse: device not found, try 'modprobe fuse' first\" >&2\nexit 1\n");
    const saved = { python: process.env.CRTOS_SIM_PYTHON, bridge: process.env.CRTOS_SIM_FUSE_BRIDGE };
    process.env.CRTOS_SIM_PYTHON = '/bin/sh';
    process.env.CRTOS_SIM_FUSE_BRIDGE = fake;
    try {
      const refused = await createSimMachine(dir, REMOTEPROC_DESCRIPTION).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toMatchObject({ problems: [{ code: 'HOST_SIM_FUSE_UNAVAILABLE', hint: expect.stringContaining('apt-get install fuse3 python3-fusepy') }] });
      expect((refused as { problems: { message: string }[] }).problems[0]?.message).toMatch(/^FUSE cannot be mounted for the simulated remoteproc sysfs: the FUSE bridge for \/sys\/[a-z/]+ exited before mounting \(1\): fuse: device not found/);
      expect(fuseMountsUnder(dir)).toEqual([]);
      expect(existsSync(kernelPaths.info(dir))).toBe(false);
    } finally {
      process.env.CRTOS_SIM_PYTHON = saved.python;
      process.env.CRTOS_SIM_FUSE_BRIDGE = saved.bridge;
      if (saved.python === undefined) delete process.env.CRTOS_SIM_PYTHON;
      if (saved.bridge === undefined) delete process.env.CRTOS_SIM_FUSE_BRIDGE;
      await destroySimMachine(dir);
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('no mount is left behind', () => {
  it('destroySimMachine unmounts everything and stops the kernel server and its bridges', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'crtos-sim-')), 'machine');
    const m = await createSimMachine(dir, REMOTEPROC_DESCRIPTION);
    const info = readKernelInfo(m.dir);
    expect(info?.bridges).toHaveLength(SYSFS_MOUNTS.length);
    await destroySimMachine(m.dir);
    expect(fuseMountsUnder(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    rmdirSync(dirname(dir));
    for (const pid of [info!.pid, ...info!.bridges.map((b) => b.pid)]) expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('the kernel powers off when the process that owns the machine exits', async () => {
    const m = await tempMachine(REMOTEPROC_DESCRIPTION);
    await stopKernel(m.dir);
    expect(fuseMountsUnder(m.dir)).toEqual([]);
    const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
    await startKernel(m.dir, owner.pid);
    expect(fuseMountsUnder(m.dir)).toHaveLength(SYSFS_MOUNTS.length);
    owner.kill('SIGKILL');
    await until('the kernel server gone', () => !existsSync(kernelPaths.info(m.dir)), { sources: [changesOf(join(m.dir, '.sim'))], timeoutMs: 10_000 });
    expect(fuseMountsUnder(m.dir)).toEqual([]);
  });

  it('a killed kernel server takes its mounts with it (the bridges die with their parent)', async () => {
    const m = await tempMachine(REMOTEPROC_DESCRIPTION);
    const info = readKernelInfo(m.dir)!;
    process.kill(info.pid, 'SIGKILL');
    // Nothing announces an unmount: look on each tick.
    await until('the mounts gone', () => fuseMountsUnder(m.dir).length === 0, { sources: [every(20)], timeoutMs: 10_000 });
    await expect(m.remoteproc()).resolves.toMatchObject({ version: 1 });
  });
});
