/** LinuxHost.installFile: atomic placement under the root, and typed failures that leave nothing behind. */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinuxHost } from '../../src/host/index.js';
import { hostError } from './helpers.js';

function machineRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'crtos-install-'));
  mkdirSync(join(root, 'opt/rtmux'), { recursive: true });
  writeFileSync(join(root, 'opt/rtmux/rtthread.bin'), 'RT-Thread image v1\n');
  return root;
}

describe.concurrent('LinuxHost.installFile', () => {
  it('creates the target directory, copies the bytes with the given mode and leaves no temporary file', async () => {
    const root = machineRoot();
    const host = createLinuxHost({ root });
    await host.installFile('/opt/rtmux/rtthread.bin', '/vmm/rtos.bin', { mode: 0o600 });
    expect(readFileSync(join(root, 'vmm/rtos.bin'), 'utf8')).toBe('RT-Thread image v1\n');
    expect(statSync(join(root, 'vmm/rtos.bin')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(root, 'vmm'))).toEqual(['rtos.bin']);
  });

  it('replaces an existing target whole, with mode 0644 by default', async () => {
    const root = machineRoot();
    mkdirSync(join(root, 'vmm'));
    writeFileSync(join(root, 'vmm/rtos.bin'), 'an older and longer image that must not leave a tail behind\n', { mode: 0o600 });
    await createLinuxHost({ root }).installFile('/opt/rtmux/rtthread.bin', '/vmm/rtos.bin');
    expect(readFileSync(join(root, 'vmm/rtos.bin'), 'utf8')).toBe('RT-Thread image v1\n');
    expect(statSync(join(root, 'vmm/rtos.bin')).mode & 0o777).toBe(0o644);
  });

  it('resolves both paths under the root: `..` cannot leave it', async () => {
    const root = machineRoot();
    await createLinuxHost({ root }).installFile('/../opt/rtmux/rtthread.bin', '/../../vmm/rtos.bin');
    expect(readFileSync(join(root, 'vmm/rtos.bin'), 'utf8')).toBe('RT-Thread image v1\n');
  });

  it('a missing source fails with ENOENT naming the source, and creates nothing', async () => {
    const root = machineRoot();
    const e = await hostError(createLinuxHost({ root }).installFile('/opt/rtmux/missing.bin', '/vmm/rtos.bin'));
    expect([e.code, e.op, e.errno]).toEqual(['HOST_WRITE_FAILED', 'installFile', 'ENOENT']);
    expect(e.message).toContain('/opt/rtmux/missing.bin');
    expect(e.message).toContain('No such file or directory');
    expect(readdirSync(root).sort()).toEqual(['opt']);
  });

  it('a directory as source fails with EISDIR', async () => {
    const root = machineRoot();
    const e = await hostError(createLinuxHost({ root }).installFile('/opt/rtmux', '/vmm/rtos.bin'));
    expect(e.errno).toBe('EISDIR');
  });

  it('an unwritable target (its directory is a file) fails with ENOTDIR naming the target', async () => {
    const root = machineRoot();
    writeFileSync(join(root, 'vmm'), 'a file where the directory should be');
    const e = await hostError(createLinuxHost({ root }).installFile('/opt/rtmux/rtthread.bin', '/vmm/rtos.bin'));
    expect([e.code, e.errno]).toEqual(['HOST_WRITE_FAILED', 'ENOTDIR']);
    expect(e.message).toContain('cannot write /vmm/rtos.bin');
  });

  it('a target that is a directory fails and leaves no temporary file in it', async () => {
    const root = machineRoot();
    mkdirSync(join(root, 'vmm/rtos.bin'), { recursive: true });
    writeFileSync(join(root, 'vmm/rtos.bin/keep'), '');
    const e = await hostError(createLinuxHost({ root }).installFile('/opt/rtmux/rtthread.bin', '/vmm/rtos.bin'));
    expect(e.code).toBe('HOST_WRITE_FAILED');
    expect(e.errno).toBeDefined();
    expect(readdirSync(join(root, 'vmm')).sort()).toEqual(['rtos.bin']);
  });

  it('writes bytes given as the source the same way: whole, with its mode, no temporary file left', async () => {
    const root = machineRoot();
    mkdirSync(join(root, 'run/crtos/cells'), { recursive: true });
    writeFileSync(join(root, 'run/crtos/cells/nuttx.cell'), 'an older and longer configuration\n');
    await createLinuxHost({ root }).installFile(Buffer.from('JHCELL new'), '/run/crtos/cells/nuttx.cell');
    expect(readFileSync(join(root, 'run/crtos/cells/nuttx.cell'), 'utf8')).toBe('JHCELL new');
    expect(readdirSync(join(root, 'run/crtos/cells'))).toEqual(['nuttx.cell']);
    writeFileSync(join(root, 'run/crtos/x'), '');
    const e = await hostError(createLinuxHost({ root }).installFile(Buffer.from('JHCELL'), '/run/crtos/x/nuttx.cell'));
    expect([e.code, e.errno]).toEqual(['HOST_WRITE_FAILED', 'ENOTDIR']);
  });

  it('a relative machine path is refused', async () => {
    const e = await hostError(createLinuxHost({ root: machineRoot() }).installFile('opt/rtmux/rtthread.bin', '/vmm/rtos.bin'));
    expect(e.code).toBe('HOST_BAD_ARGUMENT');
  });
});
