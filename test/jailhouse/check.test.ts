import { describe, expect, it } from 'vitest';
import { checkCellConfigs, checkConfigs, checkPciTypes, type CellConfig, type CheckInput, type SystemConfig } from '../../src/jailhouse/index.js';
import { asRevision, loadFixture } from './fixtures.js';

function x86Set(): { system: SystemConfig; apic: CellConfig; nuttx: CellConfig } {
  return {
    system: loadFixture('qemu-x86.yaml') as SystemConfig,
    apic: loadFixture('apic-demo.yaml') as CellConfig,
    nuttx: asRevision(loadFixture('nuttx.yaml') as CellConfig, 14),
  };
}

function input(system: SystemConfig, ...cells: CellConfig[]): CheckInput {
  return { system: { file: 'sys.cell', config: system }, cells: cells.map((config) => ({ file: `${config.name}.cell`, config })) };
}

const codes = (i: CheckInput): string[] => checkConfigs(i).map((p) => p.code);

/** Offset of PCI device `index` of `cell` in its file, the cell header at `base` (the layout's array order). */
const pciAt = (cell: CellConfig, base: number, index: number): number =>
  base + 132 + cell.cpuSetSize + 32 * cell.memoryRegions.length + 12 * cell.cacheRegions.length + 32 * cell.irqchips.length + 4 * cell.pioRegions.length + 56 * index;

describe('checkConfigs on the fixture sets (positive cases)', () => {
  it('finds nothing in the x86 set (root, apic-demo, nuttx)', () => {
    const { system, apic, nuttx } = x86Set();
    expect(checkConfigs(input(system, apic, nuttx))).toEqual([]);
  });
  it('finds nothing in the arm64 set', () => {
    expect(checkConfigs(input(loadFixture('qemu-arm64.yaml') as SystemConfig, loadFixture('gic-demo-arm64.yaml') as CellConfig))).toEqual([]);
  });
  it('finds nothing in the cRTOS revision-12 set', () => {
    const { system, nuttx } = x86Set();
    expect(checkConfigs(input(asRevision(system, 12), asRevision(nuttx, 12)))).toEqual([]);
  });
});

describe('upstream checks', () => {
  it('overlap inside a cell names file, cell, both regions and the offset', () => {
    const { system, apic } = x86Set();
    apic.memoryRegions.push({ physStart: 0x3a6ff000n, virtStart: 0x200000n, size: 0x2000n, flags: ['READ'] });
    const found = checkConfigs(input(system, apic));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ code: 'CELLCFG_OVERLAP_IN_CELL', file: 'apic-demo.cell', offset: 132 + 8 });
    expect(found[0]!.message).toContain("cell 'apic-demo', region 0");
    expect(found[0]!.message).toContain('physically overlaps with region 2');
  });
  it('virtual overlap inside a cell', () => {
    const { system, apic } = x86Set();
    apic.memoryRegions.push({ physStart: 0x3b000000n, virtStart: 0x80000n, size: 0x1000n, flags: ['READ'] });
    const found = checkConfigs(input(system, apic));
    expect(found.map((p) => p.code)).toEqual(['CELLCFG_OVERLAP_IN_CELL']);
    expect(found[0]!.message).toContain('virtually overlaps');
  });
  it('overlap with hypervisor memory', () => {
    const { system, apic } = x86Set();
    apic.memoryRegions[0]!.physStart = 0x3a500000n;
    // Hypervisor memory is no root cell region either, so not the system's RAM.
    expect(codes(input(system, apic))).toEqual(['CELLCFG_OVERLAP_HYPERVISOR', 'CELLCFG_RAM_OUTSIDE_SYSTEM']);
  });
  it('overlap with MMCONFIG', () => {
    const { system } = x86Set();
    system.rootCell.memoryRegions.push({ physStart: 0xbff00000n, virtStart: 0xbff00000n, size: 0x1000n, flags: ['READ', 'WRITE'] });
    expect(codes(input(system))).toEqual(['CELLCFG_OVERLAP_MMCONFIG']);
  });
  it('overlap with an IOMMU unit', () => {
    const { system } = x86Set();
    system.rootCell.memoryRegions.push({ physStart: 0xfed90000n, virtStart: 0xfed90000n, size: 0x1000n, flags: ['READ'] });
    expect(codes(input(system))).toEqual(['CELLCFG_OVERLAP_IOMMU']);
  });
  it('overlap with the xAPIC and an IOAPIC (x86)', () => {
    const { system } = x86Set();
    system.rootCell.memoryRegions.push({ physStart: 0xfee00000n, virtStart: 0xfee00000n, size: 0x1000n, flags: ['READ'] });
    system.rootCell.memoryRegions.push({ physStart: 0xfec00000n, virtStart: 0xfec00000n, size: 0x1000n, flags: ['READ'] });
    expect(codes(input(system))).toEqual(['CELLCFG_OVERLAP_IRQCHIP', 'CELLCFG_OVERLAP_IRQCHIP']);
  });
  it('overlap with GICv3 and GICv2 registers (arm64), and an unknown GIC version', () => {
    const sys = loadFixture('qemu-arm64.yaml') as SystemConfig;
    sys.rootCell.memoryRegions.push({ physStart: 0x80b0000n, virtStart: 0x80b0000n, size: 0x1000n, flags: ['READ'] });
    expect(codes(input(sys))).toEqual(['CELLCFG_OVERLAP_IRQCHIP']);
    const v2 = structuredClone(sys);
    v2.platformInfo.arm = { ...v2.platformInfo.arm!, gicVersion: 2, giccBase: 0x80b0000n };
    expect(checkConfigs(input(v2)).map((p) => p.message)).toEqual([expect.stringContaining('GICC')]);
    const v4 = structuredClone(sys);
    v4.platformInfo.arm!.gicVersion = 4;
    expect(codes(input(v4))).toEqual(['CELLCFG_UNKNOWN_GIC']);
  });
});

describe('checks nothing upstream makes', () => {
  it('CPUs shared between non-root cells', () => {
    const { system, apic, nuttx } = x86Set();
    apic.cpus = [2, 3];
    const found = checkConfigs(input(system, apic, nuttx));
    expect(found.map((p) => p.code)).toEqual(['CELLCFG_CPU_SHARED']);
    expect(found[0]!.message).toContain('share CPU 3');
  });
  it('no CPU left for the root cell', () => {
    const { system, apic, nuttx } = x86Set();
    system.rootCell.cpus = [2, 3];
    expect(codes(input(system, apic, nuttx))).toEqual(['CELLCFG_ROOT_STARVED']);
  });
  it('x86 CPU 0 given away, and a CPU the root cell does not own', () => {
    const { system, apic } = x86Set();
    apic.cpus = [0, 7];
    expect(codes(input(system, apic))).toEqual(['CELLCFG_CPU_NOT_IN_ROOT', 'CELLCFG_CPU0_GIVEN_AWAY']);
  });
  it('a non-root cell without CPUs', () => {
    const { system, apic } = x86Set();
    apic.cpus = [];
    expect(codes(input(system, apic))).toEqual(['CELLCFG_NO_CPU']);
  });
  it('irqchip pin bases the hypervisor refuses', () => {
    const { system } = x86Set();
    system.rootCell.irqchips[0]!.pinBase = 32;
    expect(codes(input(system))).toEqual(['CELLCFG_IRQCHIP_PIN_BASE']);
    const arm = loadFixture('qemu-arm64.yaml') as SystemConfig;
    arm.rootCell.irqchips[0]!.pinBase = 40;
    expect(codes(input(arm))).toEqual(['CELLCFG_IRQCHIP_PIN_BASE']);
  });
  it('a cell configuration too large for the hypervisor to map', () => {
    const { system, apic } = x86Set();
    apic.streamIds = new Array(15400).fill(0);
    expect(checkConfigs(input(system, apic))).toEqual([expect.objectContaining({ code: 'CELLCFG_TOO_BIG', severity: 'warning' })]);
    apic.streamIds = new Array(17000).fill(0);
    expect(checkConfigs(input(system, apic))).toEqual([expect.objectContaining({ code: 'CELLCFG_TOO_BIG', severity: undefined })]);
  });
  it('CPU 0 may go to a non-root cell on arm64', () => {
    const sys = loadFixture('qemu-arm64.yaml') as SystemConfig;
    const demo = loadFixture('gic-demo-arm64.yaml') as CellConfig;
    demo.cpus = [0];
    expect(codes(input(sys, demo))).toEqual([]);
  });
  it('memory shared between non-root cells without ROOTSHARED', () => {
    const { system, apic, nuttx } = x86Set();
    nuttx.memoryRegions.push({ physStart: 0x3a680000n, virtStart: 0x90000000n, size: 0x1000n, flags: ['READ', 'ROOTSHARED'] });
    const found = checkConfigs(input(system, apic, nuttx));
    expect(found.map((p) => p.code)).toEqual(['CELLCFG_MEMORY_SHARED']);
    expect(found[0]!.message).toMatch(/cell 'apic-demo', region 0: .* cell 'nuttx' \(nuttx.cell\), region 9/);
    // Shared with ROOTSHARED on both sides is fine.
    apic.memoryRegions[0]!.flags.push('ROOTSHARED');
    expect(codes(input(system, apic, nuttx))).toEqual([]);
  });
  it('duplicate cell names and mismatched architecture or revision', () => {
    const { system, apic } = x86Set();
    const twin = structuredClone(apic);
    twin.cpus = [1];
    twin.memoryRegions = [];
    expect(codes(input(system, apic, twin))).toEqual(['CELLCFG_DUPLICATE_NAME']);
    expect(codes(input(system, { ...apic, arch: 'arm64' }))).toEqual(['CELLCFG_ARCH_MISMATCH']);
    expect(codes(input(system, { ...apic, revision: 12 }))).toEqual(['CELLCFG_REVISION_MISMATCH']);
  });
});

describe("a non-root cell's memory outside the system's RAM", () => {
  it('is an error naming the region, the range outside and the root cell', () => {
    const { system, apic } = x86Set();
    apic.memoryRegions[0]!.physStart = 0x50000000n;
    const found = checkConfigs(input(system, apic));
    expect(found.map((p) => [p.code, p.file, p.offset])).toEqual([['CELLCFG_RAM_OUTSIDE_SYSTEM', 'apic-demo.cell', 132 + 8]]);
    expect(found[0]!.message).toBe("cell 'apic-demo', region 0: 0x50000000..0x50100000 lies outside the system's RAM: 0x50000000..0x50100000 is in no memory region of root cell 'QEMU-Linux' (sys.cell)");
    expect(found[0]!.hint).toContain("root cell's configuration");
  });
  it('names only the part no root region covers, across adjacent root regions', () => {
    const { system, apic } = x86Set();
    // Root regions 0 (0..0x3a000000) and 1 (0x3a600000..0x3f000000) leave the hypervisor's 6 MiB out.
    apic.memoryRegions[0] = { physStart: 0x39f00000n, virtStart: 0x1000000n, size: 0x800000n, flags: ['READ', 'WRITE', 'EXECUTE', 'LOADABLE'] };
    const found = checkConfigs(input(system, apic)).filter((p) => p.code === 'CELLCFG_RAM_OUTSIDE_SYSTEM');
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain(': 0x3a000000..0x3a600000 is in no memory region');
    apic.memoryRegions[0] = { physStart: 0x3ef00000n, virtStart: 0x1000000n, size: 0x200000n, flags: ['READ', 'WRITE'] };
    expect(checkConfigs(input(system, apic)).map((p) => p.message)).toEqual([expect.stringContaining(': 0x3f000000..0x3f100000 is in no memory region')]);
  });
  it('leaves out IO regions, the comm region and empty placeholders; memory shared with the root cell passes', () => {
    const { system, apic, nuttx } = x86Set();
    apic.memoryRegions.push({ physStart: 0xfe000000n, virtStart: 0xfe000000n, size: 0x1000n, flags: ['READ', 'WRITE', 'IO'] });
    apic.memoryRegions[1]!.physStart = 0x70000000n;
    expect(nuttx.memoryRegions[5]!.size).toBe(0n);
    expect(checkConfigs(input(system, apic, nuttx))).toEqual([]);
    // The ivshmem memory of nuttx is shared, not taken: without the root's side of the links it is outside.
    system.rootCell.memoryRegions = system.rootCell.memoryRegions.slice(0, 2);
    system.rootCell.pciDevices = system.rootCell.pciDevices.slice(0, 2);
    const found = checkConfigs(input(system, nuttx)).filter((p) => p.code === 'CELLCFG_RAM_OUTSIDE_SYSTEM');
    expect(found.map((p) => p.offset)).toEqual([0, 1, 2, 3, 4, 6, 7].map((i) => 132 + 8 + 32 * i));
  });
  it('counts inmate memory the caller names (a link pool no root region lists) as the system\'s RAM', () => {
    const { system, apic } = x86Set();
    apic.memoryRegions[0]!.physStart = 0x50000000n;
    const pool = { start: 0x4ff00000n, size: 0x100000n };
    const found = checkConfigs({ ...input(system, apic), inmateMemory: [pool] });
    expect(found.map((p) => p.message)).toEqual([expect.stringContaining(": 0x50000000..0x50100000 is in no memory region of root cell 'QEMU-Linux' (sys.cell) nor in the inmate memory")]);
    expect(checkConfigs({ ...input(system, apic), inmateMemory: [pool, { start: 0x50000000n, size: 0x10000000n }] })).toEqual([]);
  });
  it('holds in the arm64 and revision-12 sets too', () => {
    const sys = loadFixture('qemu-arm64.yaml') as SystemConfig;
    const demo = loadFixture('gic-demo-arm64.yaml') as CellConfig;
    demo.memoryRegions[1]!.physStart = 0x80000000n;
    expect(codes(input(sys, demo))).toEqual(['CELLCFG_RAM_OUTSIDE_SYSTEM']);
    const { system, nuttx } = x86Set();
    expect(codes(input(asRevision(system, 12), asRevision(nuttx, 12)))).toEqual([]);
  });
});

describe('memory regions off 4 KiB pages', () => {
  it('a RAM region whose start, guest address or size is off a page is an error naming the fields', () => {
    const { system, apic } = x86Set();
    apic.memoryRegions[0]!.physStart = 0x3a600800n;
    const phys = checkConfigs(input(system, apic));
    expect(phys.map((p) => [p.code, p.offset])).toEqual([['CELLCFG_NOT_PAGE_ALIGNED', 132 + 8]]);
    expect(phys[0]!.message).toBe("cell 'apic-demo', region 0: physStart 0x3a600800 is not a multiple of 4 KiB (0x3a600800..0x3a700800 at 0x0)");
    apic.memoryRegions[0] = { physStart: 0x3a600000n, virtStart: 0x200n, size: 0xff800n, flags: ['READ', 'WRITE'] };
    expect(checkConfigs(input(system, apic)).map((p) => p.message)).toEqual([expect.stringContaining('region 0: virtStart 0x200, size 0xff800 are not a multiple of 4 KiB')]);
  });
  it('applies to shared memory and to the root cell', () => {
    const { system, nuttx } = x86Set();
    system.rootCell.memoryRegions[0]!.size = 0x39fff800n;
    nuttx.memoryRegions[4]!.size = 0x800n;
    nuttx.memoryRegions[4]!.flags = ['READ', 'ROOTSHARED'];
    const found = checkConfigs(input(system, nuttx)).filter((p) => p.code === 'CELLCFG_NOT_PAGE_ALIGNED');
    expect(found.map((p) => [p.file, p.offset])).toEqual([['sys.cell', 356 + 132 + 8], ['nuttx.cell', 132 + 8 + 32 * 4]]);
  });
  it('IO regions may be sub-page; the comm region is checked by guest address only', () => {
    const { system, apic } = x86Set();
    apic.memoryRegions.push({ physStart: 0xfeb40400n, virtStart: 0xfeb40400n, size: 0x400n, flags: ['READ', 'WRITE', 'IO', 'IO_32'] });
    apic.memoryRegions[1]!.physStart = 0x123n;
    expect(codes(input(system, apic))).toEqual([]);
    apic.memoryRegions[1]!.virtStart = 0x100100n;
    expect(codes(input(system, apic))).toEqual(['CELLCFG_NOT_PAGE_ALIGNED']);
  });
  it('checkCellConfigs finds it without a system configuration', () => {
    const { apic } = x86Set();
    apic.memoryRegions[0]!.size = 0xff001n;
    expect(checkCellConfigs([{ file: 'apic', config: apic }], 'x86').map((p) => p.code)).toEqual(['CELLCFG_NOT_PAGE_ALIGNED']);
  });
});

describe('PCI device types outside 1..3', () => {
  it('are a warning in every check, and checkPciTypes finds them in one configuration', () => {
    const { system, nuttx } = x86Set();
    system.rootCell.pciDevices[1]!.type = '0x9';
    const found = checkConfigs(input(system, nuttx));
    expect(found.map((p) => [p.code, p.severity, p.file, p.offset])).toEqual([['CELLCFG_PCI_TYPE_UNKNOWN', 'warning', 'sys.cell', pciAt(system.rootCell, 356, 1)]]);
    expect(found[0]!.message).toBe("root cell 'QEMU-Linux', PCI device 1 (00:1f.2): type 0x9 is not 1 (device), 2 (bridge) or 3 (ivshmem); the hypervisor treats it as a device");
    expect(checkPciTypes(system, 'sys.cell')).toEqual(found);
    nuttx.pciDevices[1]!.type = '0x0';
    expect(checkCellConfigs([{ file: 'nuttx', config: nuttx }], 'x86').map((p) => [p.code, p.severity, p.offset])).toEqual([['CELLCFG_PCI_TYPE_UNKNOWN', 'warning', pciAt(nuttx, 0, 1)]]);
    expect(checkPciTypes(loadFixture('qemu-x86.yaml'), 'sys.cell')).toEqual([]);
  });
});

describe('ivshmem links', () => {
  it('peers disagreeing on the peer count: a warning, as the hypervisor does not compare them', () => {
    const { system, nuttx } = x86Set();
    nuttx.pciDevices[0]!.shmemPeers = 3;
    nuttx.memoryRegions.splice(4, 0, { physStart: 0x140003000n, virtStart: 0x140003000n, size: 0x1000n, flags: ['READ', 'ROOTSHARED'] });
    nuttx.pciDevices[1]!.shmemRegionsStart = 5;
    system.rootCell.memoryRegions.push({ physStart: 0x140003000n, virtStart: 0x140003000n, size: 0x1000n, flags: ['READ', 'ROOTSHARED'] });
    const found = checkConfigs(input(system, nuttx));
    expect(found).toEqual([expect.objectContaining({ code: 'CELLCFG_IVSHMEM_PEERS', severity: 'warning', file: 'nuttx.cell', message: expect.stringContaining('has shmemPeers 3, but root cell') })]);
  });
  it('a peer count the id does not fit, and a duplicate id on one bdf (EBUSY) are errors', () => {
    const { system, nuttx } = x86Set();
    nuttx.pciDevices[1]!.shmemPeers = 1;
    nuttx.pciDevices[1]!.shmemDevId = 0;
    const found = checkConfigs(input(system, nuttx));
    expect(found.map((p) => [p.code, p.severity])).toEqual(expect.arrayContaining([['CELLCFG_IVSHMEM_PEERS', 'warning'], ['CELLCFG_IVSHMEM_DEV_ID', undefined]]));
  });
  it('two peers with the same device id', () => {
    const { system, nuttx } = x86Set();
    nuttx.pciDevices[0]!.shmemDevId = 0;
    const found = codes(input(system, nuttx));
    expect(found).toContain('CELLCFG_IVSHMEM_DEV_ID');
  });
  it('a device id not below the peer count', () => {
    const { system, nuttx } = x86Set();
    nuttx.pciDevices[0]!.shmemDevId = 2;
    expect(codes(input(system, nuttx))).toEqual(['CELLCFG_IVSHMEM_DEV_ID']);
  });
  it('region indices out of range', () => {
    const { system, nuttx } = x86Set();
    nuttx.pciDevices[1]!.shmemRegionsStart = 6;
    const found = checkConfigs(input(system, nuttx));
    expect(found.map((p) => p.code)).toContain('CELLCFG_IVSHMEM_REGIONS');
    expect(found.find((p) => p.code === 'CELLCFG_IVSHMEM_REGIONS')!.message).toContain('ivshmem device 1 (00:0d.0)');
  });
  it('peers mapping different physical memory', () => {
    const { system, nuttx } = x86Set();
    // Moved inside the root cell's own output section of the link, so still the system's RAM.
    nuttx.memoryRegions[6]!.physStart = 0x140102000n;
    nuttx.memoryRegions[6]!.size = 0x1000n;
    const found = checkConfigs(input(system, nuttx));
    expect(found.map((p) => p.code)).toEqual(['CELLCFG_IVSHMEM_ADDRESS']);
    expect(found[0]!.message).toContain("cell 'nuttx', region 6: output section of peer 0");
  });
  it('an output section its owner cannot write (every send faults) is an error; one another peer can write, a warning', () => {
    const { system, nuttx } = x86Set();
    nuttx.memoryRegions[6]!.flags.push('WRITE');
    nuttx.memoryRegions[7]!.flags = ['READ', 'ROOTSHARED'];
    const found = checkConfigs(input(system, nuttx));
    expect(found.map((p) => [p.code, p.severity, p.offset])).toEqual([
      ['CELLCFG_IVSHMEM_OUTPUT_WRITE', 'warning', 132 + 8 + 32 * 6],
      ['CELLCFG_IVSHMEM_OUTPUT_WRITE', undefined, 132 + 8 + 32 * 7],
    ]);
  });
  it('what the hypervisor refuses: more than 16 MSI-X vectors, an id of 12 or more', () => {
    const { system, nuttx } = x86Set();
    nuttx.pciDevices[0]!.numMsixVectors = 17;
    const vectors = checkConfigs(input(system, nuttx));
    expect(vectors.map((p) => [p.code, p.severity, p.offset])).toEqual([['CELLCFG_IVSHMEM_VECTORS', undefined, 132 + 8 + 32 * 9 + 4]]);
    expect(vectors[0]!.message).toContain('numMsixVectors is 17');
    nuttx.pciDevices[0]!.numMsixVectors = 16;
    expect(codes(input(system, nuttx))).toEqual([]);
    nuttx.pciDevices[0]!.shmemDevId = 12;
    const id = checkConfigs(input(system, nuttx));
    expect(id.map((p) => [p.code, p.severity])).toEqual([['CELLCFG_IVSHMEM_DEV_ID', undefined]]);
    expect(id[0]!.message).toContain('refuses ids of 12 or more');
  });
  it('an id past the peer count is an error when the link has output sections, a warning when not', () => {
    const { system, nuttx } = x86Set();
    nuttx.pciDevices[0]!.shmemDevId = 2;
    expect(checkConfigs(input(system, nuttx)).map((p) => [p.code, p.severity])).toEqual([['CELLCFG_IVSHMEM_DEV_ID', undefined]]);
    // The shadow link without output sections: nothing lies past the link.
    for (const cell of [nuttx, system.rootCell]) {
      const start = cell.pciDevices.find((d) => d.bdf === 0x70)!.shmemRegionsStart;
      for (const k of [2, 3]) cell.memoryRegions[start + k] = { physStart: 0n, virtStart: 0n, size: 0n, flags: [] };
    }
    expect(checkConfigs(input(system, nuttx)).map((p) => [p.code, p.severity])).toEqual([['CELLCFG_IVSHMEM_DEV_ID', 'warning']]);
  });
  it('a peer count outside 1..12 is a warning (the hypervisor does not look at it)', () => {
    const { system, nuttx } = x86Set();
    for (const d of [nuttx.pciDevices[1]!, system.rootCell.pciDevices[3]!]) d.shmemPeers = 0;
    const found = checkConfigs(input(system, nuttx));
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((p) => p.code === 'CELLCFG_IVSHMEM_PEERS').map((p) => p.severity)).toEqual(['warning', 'warning']);
  });
  it('peers sharing memory under different bdfs', () => {
    const { system, nuttx } = x86Set();
    nuttx.pciDevices[1]!.bdf = 0x78;
    const found = codes(input(system, nuttx));
    expect(found).toContain('CELLCFG_IVSHMEM_BDF');
    expect(found).toContain('CELLCFG_IVSHMEM_LONELY');
  });
  it('a non-root endpoint without a peer is a warning, not an error', () => {
    const { system, nuttx } = x86Set();
    system.rootCell.pciDevices = system.rootCell.pciDevices.filter((d) => d.bdf !== 0x68);
    const found = checkConfigs(input(system, nuttx));
    expect(found).toEqual([expect.objectContaining({ code: 'CELLCFG_IVSHMEM_LONELY', severity: 'warning' })]);
  });
});

describe('images', () => {
  const image = (cell: string, size: number, address: bigint) => ({ cell, file: 'img.bin', size, address });
  it('an image that fits its WRITE|LOADABLE region passes', () => {
    const { system, nuttx } = x86Set();
    expect(checkConfigs({ ...input(system, nuttx), images: [image('nuttx', 0x200000, 0n)] })).toEqual([]);
  });
  it('an image running past its region', () => {
    const { system, apic } = x86Set();
    const found = checkConfigs({ ...input(system, apic), images: [image('apic-demo', 0x100001, 0n)] });
    expect(found).toEqual([expect.objectContaining({ code: 'CELLCFG_IMAGE_FIT', file: 'apic-demo.cell', offset: 140 })]);
    expect(found[0]!.message).toContain('runs 1 bytes past');
  });
  it('an image at an address no loadable region holds, and one for an unknown cell', () => {
    const { system, apic } = x86Set();
    expect(codes({ ...input(system, apic), images: [image('apic-demo', 16, 0x100000n), image('nope', 16, 0n)] })).toEqual(['CELLCFG_IMAGE_FIT', 'CELLCFG_IMAGE_CELL']);
  });
});

describe('checkCellConfigs (no system configuration at hand)', () => {
  it('finds nothing in consistent cells, and what needs no system configuration in others', () => {
    const { apic, nuttx } = x86Set();
    expect(checkCellConfigs([{ file: 'apic', config: apic }, { file: 'nuttx', config: nuttx }], 'x86')).toEqual([]);
    const twin = { ...apic, memoryRegions: [...apic.memoryRegions, { ...apic.memoryRegions[0]!, flags: ['READ'] }] };
    const found = checkCellConfigs([{ file: 'apic', config: apic }, { file: 'twin', config: twin }], 'x86');
    expect(found.map((p) => [p.code, p.file])).toEqual(expect.arrayContaining([['CELLCFG_DUPLICATE_NAME', 'twin'], ['CELLCFG_OVERLAP_IN_CELL', 'twin']]));
  });
});
