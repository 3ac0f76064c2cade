import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { findFirmware, firmwareImage, firmwareSearchPath, isRefusal, parseFirmware, zephyrFirmware } from '../../../src/sim/remoteproc/firmware.js';

describe('firmware images', () => {
  it('say what the firmware does, and are the same bytes every time (a unit can pin them)', () => {
    const image = parseFirmware(zephyrFirmware(), '/opt/zephyr/z.elf');
    expect(image).toEqual({
      path: '/opt/zephyr/z.elf',
      size: 65536,
      sha256: createHash('sha256').update(zephyrFirmware()).digest('hex'),
      identity: { name: 'zephyr-openamp-rsc-table', version: '1' },
      bootMs: 100,
      heartbeatMs: 100,
      services: ['rpmsg-tty'],
    });
    expect(Buffer.compare(zephyrFirmware(), zephyrFirmware())).toBe(0);
    expect(Buffer.compare(zephyrFirmware(1), zephyrFirmware(2))).not.toBe(0);
  });

  it('read back whatever spec they were made from (property)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
    fc.assert(
      fc.property(name, name, fc.nat(10_000), fc.nat(10_000), fc.array(name, { maxLength: 4 }), (n, version, bootMs, heartbeatMs, services) => {
        const image = parseFirmware(firmwareImage({ name: n, version, bootMs, heartbeatMs, services }), '/x');
        expect(image).toMatchObject({ identity: { name: n, version }, bootMs, heartbeatMs, services });
      }),
    );
  });

  it('are refused as rproc_elf_sanity_check refuses them', () => {
    expect(parseFirmware(new Uint8Array(51), '/x')).toEqual({ errno: 'EINVAL', line: 'Image is too small' });
    expect(parseFirmware(new Uint8Array(64).fill(0x20), '/x')).toEqual({ errno: 'EINVAL', line: 'Image is corrupted (bad magic)' });
    const bad = zephyrFirmware();
    bad[4] = 3;
    expect(parseFirmware(bad, '/x')).toEqual({ errno: 'EINVAL', line: 'Unsupported class: 3' });
  });

  it('an ELF file without the simulator line boots and does nothing visible', () => {
    const elf = new Uint8Array(64);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    const image = parseFirmware(elf, '/x');
    expect(isRefusal(image)).toBe(false);
    expect(image).toMatchObject({ bootMs: 0, heartbeatMs: 0, services: [] });
    expect(image).not.toHaveProperty('identity');
  });
});

describe('the firmware search path (reference §5)', () => {
  it('is firmware_class.path, then updates/<release>, updates, <release>, /lib/firmware', () => {
    expect(firmwareSearchPath('6.6.0', '/srv/fw')).toEqual(['/srv/fw', '/lib/firmware/updates/6.6.0', '/lib/firmware/updates', '/lib/firmware/6.6.0', '/lib/firmware']);
    expect(firmwareSearchPath('6.6.0')).toEqual(['/lib/firmware/updates/6.6.0', '/lib/firmware/updates', '/lib/firmware/6.6.0', '/lib/firmware']);
  });

  it('takes the first directory that has the name; none is ENOENT (undefined)', () => {
    const path = firmwareSearchPath('6.6.0', '/srv/fw');
    for (let i = path.length - 1; i >= 0; i--) {
      const present = new Set(path.slice(i).map((d) => `${d}/fw.elf`));
      expect(findFirmware('fw.elf', path, (p) => present.has(p))).toBe(`${path[i]}/fw.elf`);
    }
    expect(findFirmware('fw.elf', path, () => false)).toBeUndefined();
    expect(findFirmware('', path, () => true)).toBeUndefined();
  });

  it('resolves sub-directories and `..` inside the machine, never above its root', () => {
    const seen: string[] = [];
    findFirmware('imx/../../../../etc/fw', ['/lib/firmware'], (p) => (seen.push(p), false));
    expect(seen).toEqual(['/etc/fw']);
  });
});
