import { describe, expect, it } from 'vitest';
import { attrOf, listDirectory, openError, readFile, sysfsTree, SYSFS_MOUNTS } from '../../../src/sim/remoteproc/sysfs.js';
import { CM4, FIRMWARE, RPROC, harness } from './kernel-harness.js';

const DEBUG = '/sys/kernel/debug/remoteproc/remoteproc0';
const O_WRONLY = 1;
const O_RDWR = 2;

function running() {
  const h = harness([CM4]);
  h.install('rproc-imx-rproc-fw');
  h.load('imx_rproc', 'rpmsg_tty');
  h.write(`${RPROC}/state`, 'start');
  h.after(FIRMWARE.bootMs);
  return h;
}

describe('the remoteproc class (reference §2)', () => {
  it('has the five attributes with the kernel modes, a page in size, one line each', () => {
    const h = running();
    const tree = sysfsTree(h.model, h.now());
    expect(listDirectory(tree, RPROC)).toEqual(['coredump', 'firmware', 'name', 'recovery', 'state']);
    const modes = Object.fromEntries(['name', 'firmware', 'state', 'recovery', 'coredump'].map((a) => [a, attrOf(tree.get(`${RPROC}/${a}`)!)]));
    expect(modes).toEqual({
      name: { type: 'file', mode: 0o444, size: 4096 },
      firmware: { type: 'file', mode: 0o644, size: 4096 },
      state: { type: 'file', mode: 0o644, size: 4096 },
      recovery: { type: 'file', mode: 0o644, size: 4096 },
      coredump: { type: 'file', mode: 0o644, size: 4096 },
    });
    expect(['name', 'firmware', 'state', 'recovery', 'coredump'].map((a) => h.read(`${RPROC}/${a}`))).toEqual(['imx-rproc\n', 'rproc-imx-rproc-fw\n', 'running\n', 'enabled\n', 'disabled\n']);
  });

  it('name cannot be opened for writing (kernfs: EACCES); a missing file is ENOENT', () => {
    const h = running();
    const tree = sysfsTree(h.model, h.now());
    expect(openError(tree.get(`${RPROC}/name`), O_WRONLY)).toBe('EACCES');
    expect(openError(tree.get(`${RPROC}/name`), 0)).toBeUndefined();
    expect(openError(tree.get(`${RPROC}/state`), O_RDWR)).toBeUndefined();
    expect(openError(tree.get(`${RPROC}/uevent`), 0)).toBe('ENOENT');
    expect(openError(tree.get(RPROC), O_WRONLY)).toBe('EISDIR');
  });

  it('reads at an offset as a file does', () => {
    const h = running();
    const node = sysfsTree(h.model, h.now()).get(`${RPROC}/state`);
    expect(Buffer.from(readFile(node, 3, 2) as Uint8Array).toString()).toBe('nni');
    expect((readFile(node, 4096, 100) as Uint8Array).length).toBe(0);
  });

  it('the mount roots are there even with no processor; processors are numbered from 0 in registration order', () => {
    const h = harness([CM4, { name: 'm7', driver: 'other' }]);
    const empty = sysfsTree(h.model, h.now());
    for (const m of SYSFS_MOUNTS) expect(listDirectory(empty, m)).toEqual(m === '/sys/bus/rpmsg' ? ['devices'] : m === '/sys/class/devcoredump' ? ['disabled'] : []);
    h.load('other');
    h.load('other', 'imx_rproc');
    expect(h.read('/sys/class/remoteproc/remoteproc0/name')).toBe('m7\n');
    expect(h.read('/sys/class/remoteproc/remoteproc1/name')).toBe('imx-rproc\n');
  });
});

describe('the rpmsg bus (reference §9)', () => {
  it('shows each device with name, src, dst (%x: -1 is 0xffffffff), announce, modalias', () => {
    const h = running();
    const read = (dev: string) => ['name', 'src', 'dst', 'announce', 'modalias'].map((a) => h.read(`/sys/bus/rpmsg/devices/${dev}/${a}`));
    expect(read('virtio0.rpmsg-tty.-1.1024')).toEqual(['rpmsg-tty\n', '0xffffffff\n', '0x400\n', 'false\n', 'rpmsg:rpmsg-tty\n']);
    expect(read('virtio0.rpmsg_ns.53.53')).toEqual(['rpmsg_ns\n', '0x35\n', '0x35\n', 'false\n', 'rpmsg:rpmsg_ns\n']);
    expect(read('virtio0.rpmsg_ctrl.0.0')).toEqual(['rpmsg_ctrl\n', '0x0\n', '0x0\n', 'false\n', 'rpmsg:rpmsg_ctrl\n']);
  });
});

describe('debugfs (reference §1)', () => {
  it('has name, recovery, crash and the trace buffer while running', () => {
    const h = running();
    expect(h.list(DEBUG)).toEqual(['crash', 'name', 'recovery', 'trace0']);
    expect(h.read(`${DEBUG}/name`)).toBe('imx-rproc\n');
    expect(h.read(`${DEBUG}/crash`)).toBe('EINVAL');
    expect(h.read(`${DEBUG}/trace0`)).toBe('*** Booting test-fw version 1 ***\nheartbeat 1\n');
    h.write(`${RPROC}/state`, 'stop');
    expect(h.list(DEBUG)).toEqual(['crash', 'name', 'recovery']);
  });

  it('crash takes an unsigned number (kstrtouint, base 0): the type of the crash reported', () => {
    const h = running();
    expect(h.write(`${DEBUG}/crash`, 'watchdog')).toBe('EINVAL');
    expect(h.write(`${DEBUG}/crash`, '-1')).toBe('EINVAL');
    expect(h.writeCall(`${DEBUG}/crash`, '0x0\n').k.lines[0]).toBe('remoteproc remoteproc0: crash detected in imx-rproc: type mmufault');
  });

  it('recovery compares with strncmp over what was written: a prefix without newline, the word with one', () => {
    const h = running();
    expect(h.write(`${DEBUG}/recovery`, 'dis')).toBeUndefined();
    expect(h.read(`${RPROC}/recovery`)).toBe('disabled\n');
    expect(h.write(`${DEBUG}/recovery`, 'en\n')).toBe('EINVAL');
    expect(h.write(`${DEBUG}/recovery`, 'enabled\n')).toBeUndefined();
    expect(h.read(`${DEBUG}/recovery`)).toBe('enabled\n');
    expect(h.write(`${DEBUG}/recovery`, 'enabledxxxxx')).toBe('EINVAL');
    expect(h.write(`${DEBUG}/recovery`, '')).toBe('EINVAL');
  });
});

describe('devcoredump', () => {
  it('a dump has data (read: the ELF core; write: delete) and failing_device pointing at the processor', () => {
    const h = running();
    h.write(`${RPROC}/coredump`, 'enabled');
    h.write(`${DEBUG}/crash`, '1');
    const tree = sysfsTree(h.model, h.now());
    expect(tree.get('/sys/class/devcoredump/devcd1/failing_device')).toEqual({ kind: 'link', target: '../../remoteproc/remoteproc0' });
    expect(attrOf(tree.get('/sys/class/devcoredump/devcd1/data')!)).toEqual({ type: 'file', mode: 0o600, size: 0 });
    const data = readFile(tree.get('/sys/class/devcoredump/devcd1/data'), 1 << 20, 0) as Uint8Array;
    expect(Buffer.from(data.subarray(0, 4)).toString('latin1')).toBe('\x7fELF');
  });
});
