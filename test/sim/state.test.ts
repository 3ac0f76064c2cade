import { describe, expect, it } from 'vitest';
import { crtosSystemConfig } from '../../src/sim/index.js';
import { mergeDescription } from '../../src/sim/description.js';
import { rootIvshmemDevices } from '../../src/sim/ivshmem.js';
import { ivshmemNetProbes, predictableIfname, type SimIvshmemDevice } from '../../src/sim/state.js';

const EXAMPLE = { revision: 12 as const, arch: 'x86' as const, cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };

describe('interface names systemd gives an ivshmem-net device', () => {
  it.each<[number, number, string]>([
    [0x0d << 3, 0, 'enp0s13'],
    [0x01 << 3, 0, 'enp0s1'],
    [(2 << 8) | (3 << 3) | 1, 0, 'enp2s3f1'],
    // jailhouse-images' virtual PCI host on domain 1; the domain is decimal.
    [0x01 << 3, 1, 'enP1p0s1'],
    [(1 << 8) | (0x1f << 3), 0x12, 'enP18p1s31'],
  ])('bdf %i in domain %i → %s', (bdf, domain, name) => {
    expect(predictableIfname(bdf, domain)).toBe(name);
  });
});

describe("the ivshmem-net driver's probe", () => {
  const net = rootIvshmemDevices(crtosSystemConfig(EXAMPLE), mergeDescription({}))[1] as SimIvshmemDevice;

  it("binds the example's VETH device (ID 0 of 2, 0x7f000 outputs, 2 vectors), and INTx (0 vectors)", () => {
    expect(ivshmemNetProbes(net)).toBe(true);
    expect(ivshmemNetProbes({ ...net, msixVectors: 0 })).toBe(true);
  });

  it.each<[string, Partial<SimIvshmemDevice>]>([
    ['an ID above 1', { id: 2 }],
    ['more than 2 peers', { peers: 3 }],
    ['no output sections', { outputs: [{ physStart: '0x0', size: '0x0' }, { physStart: '0x0', size: '0x0' }] }],
    ['a single MSI-X vector', { msixVectors: 1 }],
  ])('refuses %s', (_, change) => {
    expect(ivshmemNetProbes({ ...net, ...change })).toBe(false);
  });
});
