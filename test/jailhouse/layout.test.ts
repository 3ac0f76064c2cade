/**
 * Every field offset and size against upstream Jailhouse's struct layouts of revisions 12-14
 * (transcribed below from the C headers of those revisions), twice: the layout
 * tables themselves, and the bytes the encoder writes for a configuration whose every field holds
 * a distinct value (read back here with plain DataView calls at the reference offsets).
 */
import { describe, expect, it } from 'vitest';
import * as L from '../../src/jailhouse/layout.js';
import { encodeConfig, type CellConfig, type SystemConfig } from '../../src/jailhouse/index.js';

type Row = [name: string, offset: number, size: number];
const rows = (layout: L.StructLayout): Row[] => layout.fields.map((f) => [f.name, f.offset, f.size]);

// The reference tables, transcribed (C names in camelCase).
const REFERENCE: [L.StructLayout, number, Row[]][] = [
  [L.CONSOLE, 32, [['address', 0, 8], ['size', 8, 4], ['type', 12, 2], ['flags', 14, 2], ['divider', 16, 4], ['gateNr', 20, 4], ['clockReg', 24, 8]]],
  [L.MEMORY, 32, [['physStart', 0, 8], ['virtStart', 8, 8], ['size', 16, 8], ['flags', 24, 8]]],
  [L.CACHE, 12, [['start', 0, 4], ['size', 4, 4], ['type', 8, 1], ['padding', 9, 1], ['flags', 10, 2]]],
  [L.IRQCHIP, 32, [['address', 0, 8], ['id', 8, 4], ['pinBase', 12, 4], ['pinBitmap', 16, 16]]],
  [L.PIO, 4, [['base', 0, 2], ['length', 2, 2]]],
  [
    L.PCI_DEVICE,
    56,
    [
      ['type', 0, 1], ['iommu', 1, 1], ['domain', 2, 2], ['bdf', 4, 2], ['barMask', 6, 24], ['capsStart', 30, 2], ['numCaps', 32, 2],
      ['numMsiVectors', 34, 1], ['msiBits', 35, 1], ['numMsixVectors', 36, 2], ['msixRegionSize', 38, 2], ['msixAddress', 40, 8],
      ['shmemRegionsStart', 48, 4], ['shmemDevId', 52, 1], ['shmemPeers', 53, 1], ['shmemProtocol', 54, 2],
    ],
  ],
  [L.PCI_CAPABILITY, 8, [['id', 0, 2], ['start', 2, 2], ['len', 4, 2], ['flags', 6, 2]]],
  [L.STREAM_ID, 4, [['id', 0, 4]]],
  [L.IOMMU, 28, [['type', 0, 4], ['base', 4, 8], ['size', 12, 4], ['union', 16, 12]]],
  [L.IOMMU_AMD, 28, [['bdf', 16, 2], ['baseCap', 18, 1], ['msiCap', 19, 1], ['features', 20, 4]]],
  [L.IOMMU_TIPVU, 28, [['tlbBase', 16, 8], ['tlbSize', 24, 4]]],
];

const CELL_TAIL: Row[] = [
  ['name', 8, 32], ['id', 40, 4], ['flags', 44, 4], ['cpuSetSize', 48, 4], ['numMemoryRegions', 52, 4], ['numCacheRegions', 56, 4],
  ['numIrqchips', 60, 4], ['numPioRegions', 64, 4], ['numPciDevices', 68, 4], ['numPciCaps', 72, 4], ['numStreamIds', 76, 4],
  ['vpciIrqBase', 80, 4], ['cpuResetAddress', 84, 8], ['msgReplyTimeout', 92, 8], ['console', 100, 32],
];
const SYS_COMMON: Row[] = [['flags', 8, 4], ['hypervisorMemory', 12, 32], ['debugConsole', 44, 32], ['pciMmconfigBase', 76, 8], ['pciMmconfigEndBus', 84, 1], ['pciIsVirtual', 85, 1], ['pciDomain', 86, 2]];

REFERENCE.push(
  [L.CELL_DESC_V12, 132, [['signature', 0, 6], ['revision', 6, 2], ...CELL_TAIL]],
  [L.CELL_DESC_V14, 132, [['signature', 0, 5], ['architecture', 5, 1], ['revision', 6, 2], ...CELL_TAIL]],
  [L.SYSTEM_V12, 486, [['signature', 0, 6], ['revision', 6, 2], ...SYS_COMMON, ['archUnion', 88, 266], ['rootCell', 354, 132]]],
  [L.SYSTEM_V13, 488, [['signature', 0, 6], ['revision', 6, 2], ...SYS_COMMON, ['iommuUnits', 88, 224], ['archUnion', 312, 44], ['rootCell', 356, 132]]],
  [L.SYSTEM_V14, 488, [['signature', 0, 5], ['architecture', 5, 1], ['revision', 6, 2], ...SYS_COMMON, ['iommuUnits', 88, 224], ['archUnion', 312, 44], ['rootCell', 356, 132]]],
  [L.X86_PLATFORM_V12, 354, [['pmTimerAddress', 88, 2], ['vtdInterruptLimit', 90, 4], ['apicMode', 94, 1], ['padding', 95, 3], ['tscKhz', 98, 4], ['apicKhz', 102, 4], ['iommuUnits', 106, 224]]],
  [L.ARM_PLATFORM_V12, 354, [['maintenanceIrq', 88, 1], ['gicVersion', 89, 1], ['gicdBase', 90, 8], ['giccBase', 98, 8], ['gichBase', 106, 8], ['gicvBase', 114, 8], ['gicrBase', 122, 8], ['iommuUnits', 130, 224]]],
  [L.X86_PLATFORM_V13, 356, [['pmTimerAddress', 312, 2], ['apicMode', 314, 1], ['padding', 315, 1], ['vtdInterruptLimit', 316, 4], ['tscKhz', 320, 4], ['apicKhz', 324, 4]]],
  [L.ARM_PLATFORM_V13, 356, [['maintenanceIrq', 312, 1], ['gicVersion', 313, 1], ['padding', 314, 2], ['gicdBase', 316, 8], ['giccBase', 324, 8], ['gichBase', 332, 8], ['gicvBase', 340, 8], ['gicrBase', 348, 8]]],
);

describe('layout tables match the reference', () => {
  for (const [layout, size, expected] of REFERENCE) {
    it(`${layout.name}: size ${size} and every field's offset and size`, () => {
      expect(layout.size).toBe(size);
      expect(rows(layout)).toEqual(expected);
      for (const f of layout.fields) expect(f.offset + f.size).toBeLessThanOrEqual(layout.size);
    });
  }
  it('the system header is 354 bytes in revision 12 and 356 later', () => {
    expect([L.systemHeaderSize(12), L.systemHeaderSize(13), L.systemHeaderSize(14)]).toEqual([354, 356, 356]);
  });
});

/** A cell whose every field holds a distinct value, so a misplaced field shows. */
function distinctCell(revision: 12 | 13 | 14, arch: 'x86' | 'arm64'): CellConfig {
  return {
    kind: 'cell', revision, arch, name: 'abcdefghijklmnopqrstuvwxyz01234', id: 0x11223344, flags: ['PASSIVE_COMMREG', 'VIRTUAL_CONSOLE_ACTIVE'],
    cpuSetSize: 8, cpus: [1, 2, 63],
    memoryRegions: [{ physStart: 0x0102030405060708n, virtStart: 0x1112131415161718n, size: 0x2122232425262728n, flags: ['READ', 'IO_64', '0x100000000'] }],
    cacheRegions: [{ start: 0x31323334, size: 0x41424344, type: 'L3_DATA', padding: 0x55, flags: ['ROOTSHARED'] }],
    irqchips: [{ address: 0x5152535455565758n, id: 0x61626364, pinBase: 0x71727374, pinBitmap: [0x81828384, 0x91929394, 0xa1a2a3a4, 0xb1b2b3b4] }],
    pioRegions: [{ base: 0xc1c2, length: 0xd1d2 }],
    pciDevices: [{
      type: 'ivshmem', iommu: 0xe1, domain: 0xe2e3, bdf: 0xe4e5, barMask: [0xf0000001, 0xf0000002, 0xf0000003, 0xf0000004, 0xf0000005, 0xf0000006],
      capsStart: 0x1a1b, numCaps: 0x2a2b, numMsiVectors: 0x3a, msi64bits: true, msiMaskable: false, msiReservedBits: 0x20, numMsixVectors: 0x4a4b,
      msixRegionSize: 0x5a5b, msixAddress: 0x6061626364656667n, shmemRegionsStart: 0x7a7b7c7d, shmemDevId: 0x8a, shmemPeers: 0x9a, shmemProtocol: 0xabac,
    }],
    pciCaps: [{ id: 0x8010, start: 0xbaba, len: 0xcaca, flags: ['WRITE'] }],
    streamIds: [0x000f0870],
    vpciIrqBase: 0xdadbdcdd, cpuResetAddress: 0xeaebecedeeeff0f1n, msgReplyTimeout: 0xfafbfcfdfefff001n,
    console: { address: 0x0a0b0c0d0e0f1011n, size: 0x1b1c1d1e, type: 'IMX_LPUART', flags: ['ACCESS_MMIO', 'MDR_QUIRK'], divider: 0x2b2c2d2e, gateNr: 0x3b3c3d3e, clockReg: 0x4a4b4c4d4e4f5051n },
  };
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function expectCellAt(v: DataView, base: number, c: CellConfig): void {
  const ascii = (o: number, n: number) => String.fromCharCode(...new Uint8Array(v.buffer, v.byteOffset + o, n));
  expect(ascii(base + 8, 31)).toBe(c.name);
  expect(v.getUint8(base + 39)).toBe(0);
  expect(v.getUint32(base + 40, true)).toBe(0x11223344);
  expect(v.getUint32(base + 44, true)).toBe(0x80000001);
  expect([48, 52, 56, 60, 64, 68, 72, 76].map((o) => v.getUint32(base + o, true))).toEqual([8, 1, 1, 1, 1, 1, 1, 1]);
  expect(v.getUint32(base + 80, true)).toBe(0xdadbdcdd);
  expect(v.getBigUint64(base + 84, true)).toBe(0xeaebecedeeeff0f1n);
  expect(v.getBigUint64(base + 92, true)).toBe(0xfafbfcfdfefff001n);
  // console @100
  expect(v.getBigUint64(base + 100, true)).toBe(0x0a0b0c0d0e0f1011n);
  expect(v.getUint32(base + 108, true)).toBe(0x1b1c1d1e);
  expect(v.getUint16(base + 112, true)).toBe(9);
  expect(v.getUint16(base + 114, true)).toBe(0x2001);
  expect(v.getUint32(base + 116, true)).toBe(0x2b2c2d2e);
  expect(v.getUint32(base + 120, true)).toBe(0x3b3c3d3e);
  expect(v.getBigUint64(base + 124, true)).toBe(0x4a4b4c4d4e4f5051n);
  // cpu set @132: CPUs 1, 2, 63
  expect(v.getBigUint64(base + 132, true)).toBe((1n << 1n) | (1n << 2n) | (1n << 63n));
  let at = base + 140;
  expect([0, 8, 16, 24].map((o) => v.getBigUint64(at + o, true))).toEqual([0x0102030405060708n, 0x1112131415161718n, 0x2122232425262728n, 0x100080001n]);
  at += 32;
  expect([v.getUint32(at, true), v.getUint32(at + 4, true), v.getUint8(at + 8), v.getUint8(at + 9), v.getUint16(at + 10, true)]).toEqual([0x31323334, 0x41424344, 2, 0x55, 1]);
  at += 12;
  expect(v.getBigUint64(at, true)).toBe(0x5152535455565758n);
  expect([8, 12, 16, 20, 24, 28].map((o) => v.getUint32(at + o, true))).toEqual([0x61626364, 0x71727374, 0x81828384, 0x91929394, 0xa1a2a3a4, 0xb1b2b3b4]);
  at += 32;
  expect([v.getUint16(at, true), v.getUint16(at + 2, true)]).toEqual([0xc1c2, 0xd1d2]);
  at += 4;
  expect([v.getUint8(at), v.getUint8(at + 1), v.getUint16(at + 2, true), v.getUint16(at + 4, true)]).toEqual([3, 0xe1, 0xe2e3, 0xe4e5]);
  expect([6, 10, 14, 18, 22, 26].map((o) => v.getUint32(at + o, true))).toEqual([0xf0000001, 0xf0000002, 0xf0000003, 0xf0000004, 0xf0000005, 0xf0000006]);
  expect([v.getUint16(at + 30, true), v.getUint16(at + 32, true), v.getUint8(at + 34), v.getUint8(at + 35)]).toEqual([0x1a1b, 0x2a2b, 0x3a, 0x81]);
  expect([v.getUint16(at + 36, true), v.getUint16(at + 38, true)]).toEqual([0x4a4b, 0x5a5b]);
  expect(v.getBigUint64(at + 40, true)).toBe(0x6061626364656667n);
  expect([v.getUint32(at + 48, true), v.getUint8(at + 52), v.getUint8(at + 53), v.getUint16(at + 54, true)]).toEqual([0x7a7b7c7d, 0x8a, 0x9a, 0xabac]);
  at += 56;
  expect([0, 2, 4, 6].map((o) => v.getUint16(at + o, true))).toEqual([0x8010, 0xbaba, 0xcaca, 1]);
  at += 8;
  expect(v.getUint32(at, true)).toBe(0x000f0870);
  expect(at + 4).toBe(v.byteLength);
}

describe('the encoder writes every field at its reference offset', () => {
  it('cell, revision 14: "JHCLL", architecture byte, revision, then the cell body', () => {
    const bytes = encodeConfig(distinctCell(14, 'arm64'));
    const v = view(bytes);
    expect(Buffer.from(bytes.subarray(0, 5)).toString('latin1')).toBe('JHCLL');
    expect(v.getUint8(5)).toBe(2);
    expect(v.getUint16(6, true)).toBe(14);
    expectCellAt(v, 0, distinctCell(14, 'arm64'));
  });
  for (const revision of [12, 13] as const) {
    it(`cell, revision ${revision}: "JHCELL" and no architecture byte`, () => {
      const v = view(encodeConfig(distinctCell(revision, 'x86')));
      expect(Buffer.from(v.buffer, 0, 6).toString('latin1')).toBe('JHCELL');
      expect(v.getUint16(6, true)).toBe(revision);
      expectCellAt(v, 0, distinctCell(revision, 'x86'));
    });
  }

  function distinctSystem(revision: 12 | 13 | 14, arch: 'x86' | 'arm64'): SystemConfig {
    const { kind: _k, ...root } = distinctCell(revision, arch);
    return {
      kind: 'system', revision, arch, flags: ['VIRTUAL_DEBUG_CONSOLE'],
      hypervisorMemory: { physStart: 0x1000000011n, virtStart: 0x2000000022n, size: 0x3000000033n, flags: ['READ'] },
      debugConsole: { address: 0x4000000044n, size: 0x55, type: 'PL011', flags: ['REGDIST_4'], divider: 0x66, gateNr: 0x77, clockReg: 0x8000000088n },
      platformInfo: {
        pciMmconfigBase: 0x9000000099n, pciMmconfigEndBus: 0xaa, pciIsVirtual: 0xbb, pciDomain: 0xcccc,
        iommuUnits: [
          { type: 'AMD', base: 0xd0000000dn, size: 0xe0e0, amd: { bdf: 0x1234, baseCap: 0x56, msiCap: 0x78, features: 0x9abcdef0 } },
          { type: 'PVU', base: 0xf0000000fn, size: 0x1010, tipvu: { tlbBase: 0x1111222233334444n, tlbSize: 0x55556666 } },
        ],
        ...(arch === 'x86'
          ? { x86: { pmTimerAddress: 0x608, apicMode: 'X2APIC', vtdInterruptLimit: 0x1f2f3f4f, tscKhz: 0x2f3f4f5f, apicKhz: 0x3f4f5f6f } }
          : { arm: { maintenanceIrq: 0x19, gicVersion: 3, gicdBase: 0xa1n, giccBase: 0xa2n, gichBase: 0xa3n, gicvBase: 0xa4n, gicrBase: 0xa5n } }),
      },
      rootCell: { kind: 'cell', ...root },
    };
  }

  function expectSystemCommon(v: DataView): void {
    expect(v.getUint32(8, true)).toBe(1);
    expect([12, 20, 28, 36].map((o) => v.getBigUint64(o, true))).toEqual([0x1000000011n, 0x2000000022n, 0x3000000033n, 1n]);
    expect(v.getBigUint64(44, true)).toBe(0x4000000044n);
    expect([v.getUint32(52, true), v.getUint16(56, true), v.getUint16(58, true), v.getUint32(60, true), v.getUint32(64, true)]).toEqual([0x55, 3, 2, 0x66, 0x77]);
    expect(v.getBigUint64(68, true)).toBe(0x8000000088n);
    expect([v.getBigUint64(76, true), v.getUint8(84), v.getUint8(85), v.getUint16(86, true)]).toEqual([0x9000000099n, 0xaa, 0xbb, 0xcccc]);
  }

  function expectIommus(v: DataView, at: number): void {
    expect([v.getUint32(at, true), v.getBigUint64(at + 4, true), v.getUint32(at + 12, true)]).toEqual([1, 0xd0000000dn, 0xe0e0]);
    expect([v.getUint16(at + 16, true), v.getUint8(at + 18), v.getUint8(at + 19), v.getUint32(at + 20, true), v.getUint32(at + 24, true)]).toEqual([0x1234, 0x56, 0x78, 0x9abcdef0, 0]);
    const b = at + 28;
    expect([v.getUint32(b, true), v.getBigUint64(b + 4, true), v.getUint32(b + 12, true), v.getBigUint64(b + 16, true), v.getUint32(b + 24, true)]).toEqual([4, 0xf0000000fn, 0x1010, 0x1111222233334444n, 0x55556666]);
    for (let o = at + 56; o < at + 224; o++) expect(v.getUint8(o)).toBe(0);
  }

  it('system, revision 12, x86: IOMMU units at 106, root cell at 354', () => {
    const v = view(encodeConfig(distinctSystem(12, 'x86')));
    expect(Buffer.from(v.buffer, 0, 6).toString('latin1')).toBe('JHSYST');
    expect(v.getUint16(6, true)).toBe(12);
    expectSystemCommon(v);
    expect([v.getUint16(88, true), v.getUint32(90, true), v.getUint8(94), v.getUint32(98, true), v.getUint32(102, true)]).toEqual([0x608, 0x1f2f3f4f, 2, 0x2f3f4f5f, 0x3f4f5f6f]);
    expectIommus(v, 106);
    expect(Buffer.from(v.buffer, 354, 8).every((b) => b === 0)).toBe(true);
    expectCellAt(v, 354, distinctCell(12, 'x86'));
  });
  it('system, revision 12, arm64: GIC fields from 88, IOMMU units at 130', () => {
    const v = view(encodeConfig(distinctSystem(12, 'arm64')));
    expectSystemCommon(v);
    expect([v.getUint8(88), v.getUint8(89)]).toEqual([0x19, 3]);
    expect([90, 98, 106, 114, 122].map((o) => v.getBigUint64(o, true))).toEqual([0xa1n, 0xa2n, 0xa3n, 0xa4n, 0xa5n]);
    expectIommus(v, 130);
    expectCellAt(v, 354, distinctCell(12, 'arm64'));
  });
  for (const revision of [13, 14] as const) {
    it(`system, revision ${revision}, x86: IOMMU units at 88, x86 fields from 312, root cell at 356`, () => {
      const v = view(encodeConfig(distinctSystem(revision, 'x86')));
      expect(Buffer.from(v.buffer, 0, revision === 14 ? 5 : 6).toString('latin1')).toBe(revision === 14 ? 'JHSYS' : 'JHSYST');
      if (revision === 14) expect(v.getUint8(5)).toBe(0);
      expect(v.getUint16(6, true)).toBe(revision);
      expectSystemCommon(v);
      expectIommus(v, 88);
      expect([v.getUint16(312, true), v.getUint8(314), v.getUint32(316, true), v.getUint32(320, true), v.getUint32(324, true)]).toEqual([0x608, 2, 0x1f2f3f4f, 0x2f3f4f5f, 0x3f4f5f6f]);
      expectCellAt(v, 356, distinctCell(revision, 'x86'));
    });
    it(`system, revision ${revision}, arm64: GIC fields from 312`, () => {
      const v = view(encodeConfig(distinctSystem(revision, 'arm64')));
      if (revision === 14) expect(v.getUint8(5)).toBe(2);
      expectSystemCommon(v);
      expectIommus(v, 88);
      expect([v.getUint8(312), v.getUint8(313)]).toEqual([0x19, 3]);
      expect([316, 324, 332, 340, 348].map((o) => v.getBigUint64(o, true))).toEqual([0xa1n, 0xa2n, 0xa3n, 0xa4n, 0xa5n]);
      expectCellAt(v, 356, distinctCell(revision, 'arm64'));
    });
  }
});
