import { describe, expect, it } from 'vitest';
import { mergeDescription } from '../../src/sim/description.js';
import { initialState } from '../../src/sim/state.js';
import { render } from '../../src/sim/render.js';
import { rootIvshmemDevices } from '../../src/sim/ivshmem.js';
import { crtosSystemConfig } from '../../src/sim/index.js';

const EXAMPLE = { revision: 12 as const, arch: 'x86' as const, cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };

describe('rendering the visible files from the state', () => {
  it('gives arm CPU 0 an online file and x86 CPU 0 none', () => {
    const arm = mergeDescription({ arch: 'arm64', cpus: 2 });
    const x86 = mergeDescription({ cpus: 2 });
    expect(render(initialState(arm), arm)['sys/devices/system/cpu/cpu0/online']).toBe('1\n');
    expect(render(initialState(x86), x86)['sys/devices/system/cpu/cpu0/online']).toBeUndefined();
  });

  it('shows Jailhouse only while its module is loaded, cells only while enabled', () => {
    const d = mergeDescription({ cpus: 40 });
    const state = initialState(d);
    expect(Object.keys(render(state, d)).some((p) => p.startsWith('sys/devices/jailhouse'))).toBe(false);
    state.modules.push({ name: 'jailhouse', size: 1, parameters: {}, refcount: 0, usedBy: [] });
    expect(render(state, d)['sys/devices/jailhouse/cells']).toBeNull();
    expect(render(state, d)['sys/devices/jailhouse/cells/0/name']).toBeUndefined();
    Object.assign(state.jailhouse, { enabled: true, rootName: 'Root', rootCpus: [0, 1, 2, 39] });
    const tree = render(state, d);
    expect(tree['sys/devices/jailhouse/cells/0/cpus_assigned']).toBe('80,00000007\n');
    expect(tree['sys/devices/jailhouse/cells/0/cpus_assigned_list']).toBe('0-2,39\n');
    expect(tree['proc/modules']).toBe('jailhouse 1 0 - Live 0x0000000000000000\n');
    expect(tree['dev/jailhouse']).toBe('');
  });

  it("shows the root cell's ivshmem devices as PCI devices while enabled, in sysfs's format", () => {
    const d = mergeDescription({});
    const state = initialState(d);
    state.jailhouse.ivshmem = rootIvshmemDevices(crtosSystemConfig(EXAMPLE), d);
    const pci = (tree: Record<string, string | null>) => Object.keys(tree).filter((p) => p.startsWith('sys/bus/pci/devices/'));
    // Registered but not enabled (a failed enable): no device; the directory is always there.
    expect(render(state, d)['sys/bus/pci/devices']).toBeNull();
    expect(pci(render(state, d))).toEqual([]);
    state.jailhouse.enabled = true;
    const tree = render(state, d);
    const shadow = 'sys/bus/pci/devices/0000:00:0e.0';
    expect([tree[`${shadow}/vendor`], tree[`${shadow}/device`], tree[`${shadow}/subsystem_vendor`], tree[`${shadow}/subsystem_device`], tree[`${shadow}/class`]]).toEqual([
      '0x110a\n',
      '0x4106\n',
      '0x110a\n',
      '0x4106\n',
      '0xff0002\n',
    ]);
    expect(tree['sys/bus/pci/devices/0000:00:0d.0/class']).toBe('0xff0001\n');
    expect(pci(tree)).toHaveLength(10);
    // A device Linux has no bus for, or one a disable removed, is not there.
    state.jailhouse.ivshmem[0]!.present = false;
    expect(pci(render(state, d)).every((p) => p.startsWith('sys/bus/pci/devices/0000:00:0d.0/'))).toBe(true);
  });

  it('shows a module parameter declared with permission 0 nowhere in sysfs, the others with their value', () => {
    const d = mergeDescription({ modules: [{ name: 'shadow', parameters: { shmaddr: { default: '0', type: 'ulong', perm: 0 }, debug: 'N' } }] });
    const state = initialState(d);
    state.modules.push({ name: 'shadow', size: 1, parameters: { shmaddr: '4294971392', debug: 'Y' }, refcount: 0, usedBy: [] });
    const tree = render(state, d);
    expect(tree['sys/module/shadow/parameters/shmaddr']).toBeUndefined();
    expect(tree['sys/module/shadow/parameters/debug']).toBe('Y\n');
  });
});
