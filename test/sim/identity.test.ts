import { describe, expect, it } from 'vitest';
import { mergeDescription, validateDescription } from '../../src/sim/description.js';
import { initialState } from '../../src/sim/state.js';
import { render } from '../../src/sim/render.js';
import { REMOTEPROC_DESCRIPTION } from '../../src/sim/remoteproc/example.js';
import { IMX8MP_BOARD } from './helpers.js';

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
    // RAM from 1 GiB, 2 GiB of it; the hypervisor's 64 MiB inside it are reserved, not in MemTotal.
    expect(tree['proc/iomem']).toBe('40000000-7bffffff : System RAM\n7c000000-7fffffff : reserved\n80000000-bfffffff : System RAM\n');
    expect(tree['proc/meminfo']).toBe('MemTotal:        2031616 kB\n');
  });

  it('gives the x86 cRTOS machine DMI names, a memmap= command line and a machine id of its own', () => {
    const d = mergeDescription({});
    const tree = render(initialState(d), d);
    expect(tree['sys/class/dmi/id/sys_vendor']).toBe('Supermicro\n');
    expect(tree['sys/class/dmi/id/product_name']).toBe('C7X99-OCE-F\n');
    expect(tree['proc/device-tree/model']).toBeUndefined();
    expect(tree['proc/cmdline']).toContain(' memmap=0x6000000$0x3a000000');
    expect(tree['proc/sys/kernel/arch']).toBe('x86_64\n');
    expect(tree['etc/machine-id']).toMatch(/^[0-9a-f]{32}\n$/);
    const other = mergeDescription({ identity: { hostname: 'crtos-2' } });
    expect(render(initialState(other), other)['etc/machine-id']).not.toBe(tree['etc/machine-id']);
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
