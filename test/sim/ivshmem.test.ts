import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CellConfig, PciDevice, SystemConfig } from '../../src/jailhouse/index.js';
import { crtosSystemConfig, nuttxCellConfig } from '../../src/sim/index.js';
import { mergeDescription } from '../../src/sim/description.js';
import { formatBdf, linuxPciBuses, pciDeviceName, registerIvshmem, rootIvshmemDevices, type RegisteredEndpoint } from '../../src/sim/ivshmem.js';

const EXAMPLE = { revision: 12 as const, arch: 'x86' as const, cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };
const X86 = mergeDescription({});
const ARM64 = mergeDescription({ arch: 'arm64', configRevision: 14 });

/** The example's system configuration with its root devices changed by `edit`. */
function withRootDevices(edit: (d: PciDevice, i: number) => Partial<PciDevice>, base: SystemConfig = crtosSystemConfig(EXAMPLE)): SystemConfig {
  return { ...base, rootCell: { ...base.rootCell, pciDevices: base.rootCell.pciDevices.map((d, i) => ({ ...d, ...edit(d, i) })) } };
}

describe('names of PCI addresses', () => {
  it('prints bus:device.function as the hypervisor does, and domain-prefixed as sysfs does', () => {
    expect(formatBdf(0x0e << 3)).toBe('00:0e.0');
    expect(formatBdf((0x12 << 8) | (0x1f << 3) | 7)).toBe('12:1f.7');
    expect(pciDeviceName({ domain: 0, bdf: 0x0d << 3 })).toBe('0000:00:0d.0');
    expect(pciDeviceName({ domain: 0x1a, bdf: (1 << 8) | (2 << 3) | 3 })).toBe('001a:01:02.3');
  });
});

describe("the hypervisor's ivshmem_init", () => {
  it('registers the example root cell, then the nuttx cell connects to both links', () => {
    const root = registerIvshmem(crtosSystemConfig(EXAMPLE).rootCell, 'RootCell', []);
    expect(root).toEqual({
      endpoints: [{ bdf: 0x70, id: 0 }, { bdf: 0x68, id: 0 }],
      console: 'Adding virtual PCI device 00:0e.0 to cell "RootCell"\nAdding virtual PCI device 00:0d.0 to cell "RootCell"\n',
    });
    const registered: RegisteredEndpoint[] = root.endpoints.map((e) => ({ ...e, cell: 'RootCell' }));
    const nuttx = registerIvshmem(nuttxCellConfig(EXAMPLE), 'nuttx', registered);
    expect(nuttx.errno).toBeUndefined();
    expect(nuttx.endpoints).toEqual([{ bdf: 0x70, id: 1 }, { bdf: 0x68, id: 1 }]);
    expect(nuttx.console).toBe(
      'Adding virtual PCI device 00:0e.0 to cell "nuttx"\nShared memory connection established, peer cells:\n "RootCell"\n' +
        'Adding virtual PCI device 00:0d.0 to cell "nuttx"\nShared memory connection established, peer cells:\n "RootCell"\n',
    );
    // A second cell with the same ends: the ids are taken.
    const again = registerIvshmem(nuttxCellConfig(EXAMPLE), 'twin', [...registered, ...nuttx.endpoints.map((e) => ({ ...e, cell: 'nuttx' }))]);
    expect(again).toMatchObject({ errno: 'EBUSY', endpoints: [] });
    expect(again.why).toContain('00:0e.0');
  });

  it.each<[string, Partial<PciDevice>, string]>([
    ['regions past the end', { shmemRegionsStart: 7 }, 'out of range'],
    ['more MSI-X vectors than emulated', { numMsixVectors: 17 }, 'at most 16'],
    ['a peer id without a slot', { shmemDevId: 12 }, 'at most 11'],
  ])('refuses %s with EINVAL, keeping no end of the cell', (_, change, why) => {
    const cell: CellConfig = { ...nuttxCellConfig(EXAMPLE), pciDevices: nuttxCellConfig(EXAMPLE).pciDevices.map((d, i) => (i === 1 ? { ...d, ...change } : d)) };
    const r = registerIvshmem(cell, 'nuttx', []);
    expect(r).toMatchObject({ errno: 'EINVAL', endpoints: [] });
    expect(r.why).toContain(why);
    // It printed the device it was adding when it refused.
    expect(r.console.trimEnd().split('\n').at(-1)).toBe('Adding virtual PCI device 00:0d.0 to cell "nuttx"');
  });

  it('accepts what it does not compare: peer counts, protocols, sizes and ids up to 11 beyond the peer count', () => {
    const cell: CellConfig = { ...nuttxCellConfig(EXAMPLE), pciDevices: nuttxCellConfig(EXAMPLE).pciDevices.map((d) => ({ ...d, shmemPeers: 1, shmemProtocol: 0x4000, shmemDevId: 11 })) };
    expect(registerIvshmem(cell, 'nuttx', [{ bdf: 0x70, id: 0, cell: 'RootCell' }]).errno).toBeUndefined();
  });

  it('refuses a (bdf, id) exactly when some cell already holds it (property)', () => {
    const end = fc.record({ bdf: fc.integer({ min: 0, max: 3 }), id: fc.integer({ min: 0, max: 2 }) });
    fc.assert(
      fc.property(fc.array(fc.array(end, { maxLength: 3 }), { maxLength: 5 }), (cells) => {
        const held: RegisteredEndpoint[] = [];
        cells.forEach((ends, n) => {
          const base = nuttxCellConfig(EXAMPLE);
          const regions = [...Array(4)].map(() => base.memoryRegions[0]!);
          const template = base.pciDevices[0]!;
          const config: CellConfig = { ...base, memoryRegions: regions, pciDevices: ends.map((e) => ({ ...template, bdf: e.bdf, shmemDevId: e.id, shmemRegionsStart: 0, shmemPeers: 2 })) };
          const keys = ends.map((e) => `${e.bdf}/${e.id}`);
          const clash = keys.some((k, i) => keys.indexOf(k) !== i || held.some((h) => `${h.bdf}/${h.id}` === k));
          const r = registerIvshmem(config, `c${n}`, held);
          expect(r.errno).toBe(clash ? 'EBUSY' : undefined);
          if (!clash) held.push(...r.endpoints.map((e) => ({ ...e, cell: `c${n}` })));
        });
      }),
    );
  });
});

describe("the root cell's devices as Linux sees them", () => {
  it('keeps each device with its sections from the root cell regions at shmem_regions_start', () => {
    const [shadow, net] = rootIvshmemDevices(crtosSystemConfig(EXAMPLE), X86);
    // The cRTOS layout: shadow at 4 GiB (1 GiB R/W section after a one-page state table, one page per
    // output), ivshmem-net's 1 MiB window (no R/W section, two 0x7f000 outputs) at 0x140100000.
    expect(shadow).toEqual({
      bdf: 0x70,
      id: 0,
      domain: 0,
      present: true,
      protocol: 2,
      peers: 2,
      msixVectors: 16,
      stateTable: { physStart: '0x100000000', size: '0x1000' },
      rw: { physStart: '0x100001000', size: '0x40000000' },
      outputs: [
        { physStart: '0x140001000', size: '0x1000' },
        { physStart: '0x140002000', size: '0x1000' },
      ],
    });
    expect(net).toMatchObject({
      bdf: 0x68,
      protocol: 1,
      msixVectors: 2,
      stateTable: { physStart: '0x140100000', size: '0x1000' },
      rw: { physStart: '0x0', size: '0x0' },
      outputs: [
        { physStart: '0x140101000', size: '0x7f000' },
        { physStart: '0x140180000', size: '0x7f000' },
      ],
    });
  });

  it('x86: a device appears only in a PCI domain the machine has (the driver finds no bus otherwise)', () => {
    const config = withRootDevices((_, i) => ({ domain: i }));
    expect(rootIvshmemDevices(config, X86).map((d) => d.present)).toEqual([true, false]);
    expect(rootIvshmemDevices(config, mergeDescription({ pciDomains: [0, 1] })).map((d) => d.present)).toEqual([true, true]);
  });

  it('arm64 with a virtual PCI host: one bus in pci_domain; 0xffff takes the lowest domain the machine leaves free', () => {
    const base = crtosSystemConfig({ ...EXAMPLE, revision: 14, arch: 'arm64' });
    const virtualHost = (pciDomain: number): SystemConfig => ({ ...base, platformInfo: { ...base.platformInfo, pciIsVirtual: 1, pciDomain } });
    const inDomain1 = linuxPciBuses(virtualHost(1), ARM64);
    expect([inDomain1(1, 0), inDomain1(0, 0), inDomain1(1, 1)]).toEqual([true, false, false]);
    const any = virtualHost(0xffff);
    expect(linuxPciBuses(any, ARM64)(0, 0)).toBe(true);
    expect(linuxPciBuses(any, mergeDescription({ arch: 'arm64', pciDomains: [0, 1] }))(2, 0)).toBe(true);
    expect(linuxPciBuses(any, mergeDescription({ arch: 'arm64', pciDomains: [0, 1] }))(0, 0)).toBe(false);
    // Without the virtual host an arm machine has no PCI bus of its own by default.
    expect(rootIvshmemDevices(base, ARM64).map((d) => d.present)).toEqual([false, false]);
    const linked = withRootDevices((d, i) => ({ domain: 1, bdf: (i + 1) << 3 }), virtualHost(1));
    expect(rootIvshmemDevices(linked, ARM64).map((d) => [pciDeviceName(d), d.present])).toEqual([
      ['0001:00:01.0', true],
      ['0001:00:02.0', true],
    ]);
  });
});
