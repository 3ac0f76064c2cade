import { describe, expect, it } from 'vitest';
import { addLinks, addLinksToSystem, type IvshmemLinkRequest, type PlacedLink } from '../../../../src/backends/jailhouse/links/index.js';
import { decodeConfig, encodeConfig, type CellConfig, type MemoryRegion, type PciDevice } from '../../../../src/jailhouse/index.js';
import { crtosBaseSystemConfig, nuttxOwnCellConfig, type ExampleOptions } from '../../../../src/sim/crtos-example.js';
import { KiB, link } from './helpers.js';

const O: ExampleOptions = { revision: 14, arch: 'x86', cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };
const P = 0x1_0000_0000n;
const COMM: MemoryRegion = { physStart: 0n, virtStart: 0x8000_0000n, size: 0x1000n, flags: ['READ', 'WRITE', 'COMM_REGION'] };
const RAM: MemoryRegion = { physStart: 0x2000_0000n, virtStart: 0n, size: 0x10_0000n, flags: ['READ', 'WRITE', 'EXECUTE', 'LOADABLE'] };

const cell = (memoryRegions: MemoryRegion[] = [COMM], pciDevices: PciDevice[] = []): CellConfig => ({ ...nuttxOwnCellConfig(O), name: 'b', memoryRegions, pciDevices });
const placed = (request: IvshmemLinkRequest, address: bigint, bdf: number): PlacedLink => ({ request, placement: { address, bdf, footprint: 0n } });
const region = (physStart: bigint, size: bigint, flags: string[], virtStart = physStart): MemoryRegion => ({ physStart, virtStart, size, flags });
const ZERO = region(0n, 0n, []);

const threePeers = link('three.link', { peers: [{}, { cell: 'a.cell' }, { cell: 'b.cell' }], rwSize: 8n * KiB, protocol: 0x4001 });

describe('addLinks', () => {
  it("lays out state, r/w and one output per peer at the link's address; only the owner's output is writable", () => {
    const out = addLinks(cell(), 'b.cell', [placed(threePeers, P, 0x18)], O);
    expect(out.memoryRegions).toEqual([
      region(P, 0x1000n, ['READ', 'ROOTSHARED']),
      region(P + 0x1000n, 0x2000n, ['READ', 'WRITE', 'ROOTSHARED']),
      region(P + 0x3000n, 0x1000n, ['READ', 'ROOTSHARED']),
      region(P + 0x4000n, 0x1000n, ['READ', 'ROOTSHARED']),
      region(P + 0x5000n, 0x1000n, ['READ', 'WRITE', 'ROOTSHARED']),
      COMM,
    ]);
    expect(out.pciDevices).toEqual([
      expect.objectContaining({ type: 'ivshmem', bdf: 0x18, domain: 0, shmemRegionsStart: 0, shmemDevId: 2, shmemPeers: 3, shmemProtocol: 0x4001, numMsixVectors: 1, barMask: [0xfffff000, 0xfffff000, 0, 0, 0, 0] }),
    ]);
  });

  it('gives the root cell the same regions but for WRITE on its own output (peer 0)', () => {
    const root = addLinks(cell([RAM]), undefined, [placed(threePeers, P, 0x18)], O);
    expect(root.memoryRegions.map((r) => r.flags.includes('WRITE'))).toEqual([true, false, true, true, false, false]);
    expect(root.memoryRegions.slice(1).every((r) => r.flags.includes('ROOTSHARED'))).toBe(true);
    expect(root.pciDevices[0]).toMatchObject({ shmemRegionsStart: 1, shmemDevId: 0 });
  });

  it('writes an absent section as the all-zero region', () => {
    const out = addLinks(cell(), 'a.cell', [placed(link('x.link', { outputSize: 0n }), P, 0)], O);
    expect(out.memoryRegions).toEqual([region(P, 0x1000n, ['READ', 'ROOTSHARED']), ZERO, ZERO, ZERO, COMM]);
  });

  it("maps at the peer's guest addresses: the window's, and the r/w section's own with its extra flags", () => {
    const l = link('x.link', {
      rwSize: 8n * KiB,
      rwFlags: ['EXECUTE'],
      peers: [{}, { cell: 'a.cell', virtStart: 0x4000_0000n }, { cell: 'b.cell', rw: { virtStart: 0n, flags: ['LOADABLE'] } }],
    });
    const a = addLinks(cell(), 'a.cell', [placed(l, P, 0)], O).memoryRegions;
    expect(a.slice(0, 5).map((r) => r.virtStart)).toEqual([0x4000_0000n, 0x4000_1000n, 0x4000_3000n, 0x4000_4000n, 0x4000_5000n]);
    expect(a[1]!.flags).toEqual(['READ', 'WRITE', 'EXECUTE', 'ROOTSHARED']);
    const b = addLinks(cell(), 'b.cell', [placed(l, P, 0)], O).memoryRegions;
    expect(b.slice(0, 5).map((r) => r.virtStart)).toEqual([P, 0n, P + 0x3000n, P + 0x4000n, P + 0x5000n]);
    expect(b[1]).toEqual(region(P + 0x1000n, 0x2000n, ['READ', 'WRITE', 'EXECUTE', 'LOADABLE', 'ROOTSHARED'], 0n));
  });

  it('adds links in order of address whatever their order, with their indices, and leaves out links the cell is no peer of', () => {
    const low = link('z.link');
    const high = link('a.link', { peers: [{ cell: 'a.cell' }, {}] });
    const other = link('other.link', { peers: [{}, { cell: 'c.cell' }] });
    const out = addLinks(cell([RAM, COMM]), 'a.cell', [placed(high, P + 0x10_0000n, 8), placed(other, P + 0x20_0000n, 16), placed(low, P, 0)], O);
    expect(out.memoryRegions.map((r) => r.physStart)).toEqual([RAM.physStart, P, 0n, P + 0x1000n, P + 0x2000n, P + 0x10_0000n, 0n, P + 0x10_1000n, P + 0x10_2000n, 0n]);
    expect(out.memoryRegions.at(-1)).toEqual(COMM);
    expect(out.pciDevices.map((d) => [d.bdf, d.shmemRegionsStart, d.shmemDevId])).toEqual([
      [0, 1, 1],
      [8, 5, 0],
    ]);
  });

  it('appends after the base when its communication region is not last, and keeps the base devices first', () => {
    const own: PciDevice = { ...addLinks(cell(), 'a.cell', [placed(link('x.link'), P, 0)], O).pciDevices[0]!, type: 'device', bdf: 0xf8 };
    const out = addLinks(cell([COMM, RAM], [own]), 'a.cell', [placed(link('x.link'), P, 0)], O);
    expect(out.memoryRegions.slice(0, 2)).toEqual([COMM, RAM]);
    expect(out.pciDevices.map((d) => [d.type, d.shmemRegionsStart])).toEqual([
      ['device', 0],
      ['ivshmem', 2],
    ]);
  });

  it('leaves a cell that is no peer of any link as it was', () => {
    const base = cell([RAM, COMM]);
    expect(addLinks(base, 'c.cell', [placed(threePeers, P, 0)], O)).toEqual(base);
  });

  it('picks vectors and BAR masks by architecture and revision, and takes a pinned mask and the domain', () => {
    const dev = (l: IvshmemLinkRequest, target: Parameters<typeof addLinks>[3]): PciDevice => addLinks(cell(), 'a.cell', [placed(l, P, 0)], target).pciDevices[0]!;
    const veth = link('net.link', { protocol: 1, outputSize: 508n * KiB });
    expect(dev(veth, { revision: 14, arch: 'x86' })).toMatchObject({ numMsixVectors: 2, barMask: [0xfffff000, 0xfffff000, 0, 0, 0, 0] });
    expect(dev(veth, { revision: 13, arch: 'x86' })).toMatchObject({ numMsixVectors: 2, barMask: [0xfffff000, 0xfffff000, 0, 0, 0, 0] });
    expect(dev(veth, { revision: 12, arch: 'x86' })).toMatchObject({ numMsixVectors: 2, barMask: [0xfffff000, 0xfffffe00, 0, 0, 0, 0] });
    expect(dev(veth, { revision: 14, arch: 'arm64' })).toMatchObject({ numMsixVectors: 0, barMask: [0xfffff000, 0, 0, 0, 0, 0] });
    expect(dev({ ...veth, msixVectors: 2 }, { revision: 14, arch: 'arm' })).toMatchObject({ numMsixVectors: 2, barMask: [0xfffff000, 0xfffff000, 0, 0, 0, 0] });
    expect(dev({ ...veth, barMask: [0xffff0000, 0xffff0000, 0, 0, 0, 0] }, { revision: 14, arch: 'x86', domain: 1 })).toMatchObject({ domain: 1, barMask: [0xffff0000, 0xffff0000, 0, 0, 0, 0] });
  });

  it('encodes, and decodes back to exactly what was generated', () => {
    const out = addLinks(cell([RAM, COMM]), 'b.cell', [placed(threePeers, P, 0x18)], O);
    const decoded = decodeConfig(encodeConfig(out), { arch: 'x86' });
    expect(decoded.ok && decoded.config).toEqual(out);
  });
});

describe('addLinksToSystem', () => {
  it("adds the root cell's side, with its devices in the system's PCI domain", () => {
    const base = crtosBaseSystemConfig(O);
    const sys = addLinksToSystem({ ...base, platformInfo: { ...base.platformInfo, pciDomain: 1 } }, [placed(threePeers, P, 0x18)]);
    expect(sys.rootCell.memoryRegions).toHaveLength(base.rootCell.memoryRegions.length + 5);
    expect(sys.rootCell.pciDevices).toEqual([expect.objectContaining({ domain: 1, shmemDevId: 0, shmemRegionsStart: base.rootCell.memoryRegions.length })]);
    expect({ ...sys, rootCell: base.rootCell, platformInfo: base.platformInfo }).toEqual(base);
  });
});
