import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { destroySimMachine } from '../../src/sim/index.js';
import { mergeDescription, validateDescription } from '../../src/sim/description.js';
import { initialState } from '../../src/sim/state.js';
import { render } from '../../src/sim/render.js';
import { REMOTEPROC_DESCRIPTION } from '../../src/sim/remoteproc/example.js';
import { IMX8MP_BOARD, tempMachine } from './helpers.js';

describe("the simulated machine's identity files", () => {
  it('shows a given identity where a real machine keeps it, device-tree strings NUL-terminated', () => {
    const d = mergeDescription(IMX8MP_BOARD);
    expect(validateDescription(d)).toEqual([]);
    expect(d.kernelRelease).toBe('6.1.0-rt');
    const tree = render(initialState(d), d);
    expect(tree['etc/hostname']).toBe('rt-box-7\n');
    expect(tree['proc/sys/kernel/hostname']).toBe('rt-box-7\n');
    expect(tree['etc/machine-id']).toBe('0123456789abcdef0123456789abcdef\n');
    expect(tree['proc/sys/kernel/osrelease']).toBe('6.1.0-rt\n');
    expect(tree['proc/sys/kernel/arch']).toBe('aarch64\n');
    expect(tree['proc/cmdline']).toBe('console=ttymxc1 mem=1G\n');
    expect(tree['proc/device-tree/model']).toBe('NXP i.MX8MPlus EVK board\0');
    expect(tree['proc/device-tree/compatible']).toBe('fsl,imx8mp-evk\0fsl,imx8mp\0');
    expect(tree['sys/class/dmi/id/sys_vendor']).toBeUndefined();
    // RAM from 1 GiB, 2 GiB of it; mem=1G gives Linux the first GiB, where the hypervisor's 64 MiB
    // are reserved (a no-map reserved-memory node), in neither MemTotal nor System RAM.
    expect(tree['proc/iomem']).toBe('40000000-7bffffff : System RAM\n7c000000-7fffffff : reserved\n');
    expect(tree['proc/meminfo']).toBe('MemTotal:         983040 kB\n');
    // The firmware's device tree still has all 2 GiB: two cells per address and size, big-endian.
    const bytes = (rel: string) => Buffer.from(tree[rel]!, 'latin1').toString('hex');
    expect(bytes('proc/device-tree/#address-cells')).toBe('00000002');
    expect(bytes('proc/device-tree/#size-cells')).toBe('00000002');
    expect(tree['proc/device-tree/memory@40000000/device_type']).toBe('memory\0');
    expect(bytes('proc/device-tree/memory@40000000/reg')).toBe('00000000' + '40000000' + '00000000' + '80000000');
    expect(bytes('proc/device-tree/reserved-memory/jailhouse@7c000000/reg')).toBe('00000000' + '7c000000' + '00000000' + '04000000');
    expect(tree['proc/device-tree/reserved-memory/jailhouse@7c000000/no-map']).toBe('');
    expect(tree['sys/firmware/memmap/0/type']).toBeUndefined();
  });

  it('shows the reference arm64 setup: 1 GiB, mem=768M, the hypervisor above what Linux has, no reserved-memory node', () => {
    const d = mergeDescription({ ...IMX8MP_BOARD, hypervisorMemory: { physStart: '0x7fc00000', size: '0x400000' }, identity: { ...IMX8MP_BOARD.identity, kernelCommandLine: 'console=ttyAMA0 mem=768M', memoryBytes: 1024 ** 3 } });
    const tree = render(initialState(d), d);
    expect(tree['proc/iomem']).toBe('40000000-6fffffff : System RAM\n');
    expect(tree['proc/meminfo']).toBe('MemTotal:         786432 kB\n');
    expect(Buffer.from(tree['proc/device-tree/memory@40000000/reg']!, 'latin1').toString('hex')).toBe('00000000' + '40000000' + '00000000' + '40000000');
    expect(Object.keys(tree).filter((k) => k.includes('reserved-memory'))).toEqual([]);
  });

  it('gives a 32-bit arm board one cell per address and size', () => {
    const d = mergeDescription({ arch: 'arm', identity: { memoryBytes: 512 * 1024 ** 2 } });
    const tree = render(initialState(d), d);
    expect(Buffer.from(tree['proc/device-tree/#address-cells']!, 'latin1').toString('hex')).toBe('00000001');
    expect(Buffer.from(tree['proc/device-tree/memory@40000000/reg']!, 'latin1').toString('hex')).toBe('40000000' + '20000000');
  });

  it("writes device-tree properties byte for byte, a non-ASCII model as UTF-8", async () => {
    const m = await tempMachine({ ...IMX8MP_BOARD, identity: { ...IMX8MP_BOARD.identity, board: { model: 'Büro board', compatible: ['x,büro'] } } });
    try {
      expect(readFileSync(join(m.dir, 'proc/device-tree/memory@40000000/reg')).toString('hex')).toBe('00000000' + '40000000' + '00000000' + '80000000');
      expect(readFileSync(join(m.dir, 'proc/device-tree/model'), 'utf8')).toBe('Büro board\0');
      expect(readFileSync(join(m.dir, 'etc/hostname'), 'utf8')).toBe('rt-box-7\n');
    } finally {
      await destroySimMachine(m.dir);
    }
  });

  it('gives the x86 cRTOS machine DMI names, a memmap= command line and a machine id of its own', () => {
    const d = mergeDescription({});
    const tree = render(initialState(d), d);
    expect(tree['sys/class/dmi/id/sys_vendor']).toBe('Supermicro\n');
    expect(tree['sys/class/dmi/id/product_name']).toBe('C7X99-OCE-F\n');
    expect(tree['proc/device-tree/model']).toBeUndefined();
    expect(tree['proc/cmdline']).toContain(' memmap=0x6000000$0x3a000000');
    // memmap= turns the hypervisor's memory reserved; the firmware's E820 map still has all 8 GiB.
    expect(tree['proc/iomem']).toBe('00000000-39ffffff : System RAM\n3a000000-3fffffff : Reserved\n40000000-1ffffffff : System RAM\n');
    expect([tree['sys/firmware/memmap/0/start'], tree['sys/firmware/memmap/0/end'], tree['sys/firmware/memmap/0/type']]).toEqual(['0x0\n', '0x1ffffffff\n', 'System RAM\n']);
    expect(tree['sys/firmware/memmap/1/start']).toBeUndefined();
    expect(Object.keys(tree).filter((k) => k.startsWith('proc/device-tree/'))).toEqual([]);
    expect(tree['proc/sys/kernel/arch']).toBe('x86_64\n');
    expect(tree['etc/machine-id']).toMatch(/^[0-9a-f]{32}\n$/);
    const other = mergeDescription({ identity: { hostname: 'crtos-2' } });
    expect(render(initialState(other), other)['etc/machine-id']).not.toBe(tree['etc/machine-id']);
  });

  it('takes from Linux on x86 only what the command line does: mem= cuts System RAM, no memmap= leaves the hypervisor memory in it', () => {
    const mem = mergeDescription({ identity: { kernelCommandLine: 'root=/dev/sda1 mem=4G memmap=64M$0x3a000000,1M$0x1fff00000' } });
    expect(render(initialState(mem), mem)['proc/iomem']).toBe('00000000-39ffffff : System RAM\n3a000000-3dffffff : Reserved\n3e000000-ffffffff : System RAM\n');
    expect(render(initialState(mem), mem)['proc/meminfo']).toBe(`MemTotal:        ${4 * 1024 * 1024 - 64 * 1024} kB\n`);
    const none = mergeDescription({ identity: { kernelCommandLine: 'root=/dev/sda1' } });
    expect(render(initialState(none), none)['proc/iomem']).toBe('00000000-1ffffffff : System RAM\n');
  });

  it('gives the remoteproc example its i.MX8M Mini device tree', () => {
    const d = mergeDescription(REMOTEPROC_DESCRIPTION);
    const tree = render(initialState(d), d);
    expect(tree['proc/device-tree/compatible']).toBe('fsl,imx8mm-evk\0fsl,imx8mm\0');
    expect(tree['proc/iomem']).toBe('40000000-bfffffff : System RAM\n');
  });

  it('refuses a bad identity, naming the field', () => {
    const d = mergeDescription({ kernelRelease: '5.4.0', identity: { machineId: 'XYZ', kernelRelease: '6.1.0', memoryBytes: 1000, board: { compatible: [''] } } });
    const problems = validateDescription(d);
    expect(problems).toContainEqual(expect.stringContaining('identity.machineId must be 32 lower-case hex digits'));
    expect(problems).toContainEqual(expect.stringContaining('identity.kernelRelease 6.1.0 differs from kernelRelease 5.4.0'));
    expect(problems).toContainEqual(expect.stringContaining('identity.memoryBytes'));
    expect(problems).toContainEqual(expect.stringContaining('identity.board.compatible'));
  });
});
