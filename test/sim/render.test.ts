import { describe, expect, it } from 'vitest';
import { mergeDescription } from '../../src/sim/description.js';
import { initialState } from '../../src/sim/state.js';
import { render } from '../../src/sim/render.js';

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
});
