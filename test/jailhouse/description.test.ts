import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  cellDescriptionSchema,
  inlineCellConfigSchema,
  completeInlineCellConfig,
  decodeConfig,
  describeConfig,
  describeConfigYaml,
  encodeConfig,
  parseConfigDescription,
  parseConfigDescriptionText,
  type CellConfig,
  type SystemConfig,
} from '../../src/jailhouse/index.js';
import { APIC_MODES, SYSTEM_FLAGS, CACHE_FLAGS, CACHE_TYPES, CELL_FLAGS, CONSOLE_FLAGS, CONSOLE_TYPES, MEMORY_FLAGS, PCI_CAP_FLAGS, bitsToNames, enumToName } from '../../src/jailhouse/flags.js';
import { loadFixture } from './fixtures.js';
import { formatBdf, formatCpuList, formatSize, parseBdf, parseCpuList, parseInteger } from '../../src/jailhouse/values.js';

const u = (bits: 8 | 16 | 32) => fc.nat(2 ** bits - 1);
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const flags = (table: typeof MEMORY_FLAGS, width: bigint) => fc.bigInt({ min: 0n, max: 2n ** width - 1n }).map((v) => bitsToNames(v, table));

const consoleArb = fc.record({
  address: u64, size: u(32), type: u(16).map((v) => enumToName(v % 12, CONSOLE_TYPES)), flags: flags(CONSOLE_FLAGS, 16n), divider: u(32), gateNr: u(32), clockReg: u64,
});

const cellArb = (revision: 12 | 13 | 14, arch: 'x86' | 'arm' | 'arm64'): fc.Arbitrary<CellConfig> =>
  fc.record({
    kind: fc.constant('cell' as const), revision: fc.constant(revision), arch: fc.constant(arch),
    name: fc.string({ maxLength: 31 }).map((s) => [...s].map((c) => (c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) < 0x7f ? c : 'x')).join('')),
    id: u(32), flags: flags(CELL_FLAGS, 32n), cpuSetSize: fc.constantFrom(8, 16),
    cpus: fc.uniqueArray(fc.nat(63), { maxLength: 6 }).map((c) => c.sort((a, b) => a - b)),
    memoryRegions: fc.array(fc.record({ physStart: u64, virtStart: u64, size: u64, flags: flags(MEMORY_FLAGS, 64n) }), { maxLength: 3 }),
    cacheRegions: fc.array(fc.record({ start: u(32), size: u(32), type: u(8).map((v) => enumToName(v % 5, CACHE_TYPES)), padding: u(8), flags: flags(CACHE_FLAGS, 16n) }), { maxLength: 2 }),
    irqchips: fc.array(fc.record({ address: u64, id: u(32), pinBase: u(32), pinBitmap: fc.tuple(u(32), u(32), u(32), u(32)) }), { maxLength: 2 }),
    pioRegions: fc.array(fc.record({ base: u(16), length: u(16) }), { maxLength: 2 }),
    pciDevices: fc.array(
      fc.record({
        type: fc.constantFrom('device' as const, 'bridge' as const, 'ivshmem' as const), iommu: u(8), domain: u(16), bdf: u(16),
        barMask: fc.tuple(u(32), u(32), u(32), u(32), u(32), u(32)), capsStart: u(16), numCaps: u(16), numMsiVectors: u(8),
        msi64bits: fc.boolean(), msiMaskable: fc.boolean(), msiReservedBits: fc.nat(63), numMsixVectors: u(16), msixRegionSize: u(16),
        msixAddress: u64, shmemRegionsStart: u(32), shmemDevId: u(8), shmemPeers: u(8), shmemProtocol: u(16),
      }),
      { maxLength: 2 },
    ),
    pciCaps: fc.array(fc.record({ id: u(16), start: u(16), len: u(16), flags: flags(PCI_CAP_FLAGS, 16n) }), { maxLength: 2 }),
    streamIds: fc.array(u(32), { maxLength: 2 }),
    vpciIrqBase: u(32), cpuResetAddress: u64, msgReplyTimeout: u64, console: consoleArb,
  });

describe('random configurations', () => {
  it('describe -> parse gives back the configuration, and encode -> decode too', () => {
    const revArch = fc.tuple(fc.constantFrom(12 as const, 13 as const, 14 as const), fc.constantFrom('x86' as const, 'arm' as const, 'arm64' as const));
    fc.assert(
      fc.property(revArch.chain(([rev, arch]) => cellArb(rev, arch)), (cell) => {
        const parsed = parseConfigDescription(JSON.parse(JSON.stringify(describeConfig(cell))));
        expect(parsed.ok && parsed.config).toEqual(cell);
        const decoded = decodeConfig(encodeConfig(cell), { arch: cell.arch });
        expect(decoded.ok && decoded.config).toEqual(cell);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

const memoryArb = fc.record({ physStart: u64, virtStart: u64, size: u64, flags: flags(MEMORY_FLAGS, 64n) });
const iommuArb = fc.oneof(
  fc.record({ type: fc.constant('AMD'), base: u64, size: u(32), amd: fc.record({ bdf: u(16), baseCap: u(8), msiCap: u(8), features: u(32) }) }),
  fc.record({ type: fc.constant('PVU'), base: u64, size: u(32), tipvu: fc.record({ tlbBase: u64, tlbSize: u(32) }) }),
  fc.record({ type: fc.constantFrom('INTEL', 'SMMUV3', 'UNUSED', '0x9'), base: u64, size: u(32) }),
  fc.record({ type: fc.constant('ARM_MMU500'), base: u64, size: u(32), unionBytes: fc.uint8Array({ minLength: 12, maxLength: 12 }).filter((b) => b.some((x) => x !== 0)) }),
);

const systemArb = (revision: 12 | 13 | 14, arch: 'x86' | 'arm' | 'arm64'): fc.Arbitrary<SystemConfig> =>
  fc.record({
    kind: fc.constant('system' as const), revision: fc.constant(revision), arch: fc.constant(arch),
    flags: flags(SYSTEM_FLAGS, 32n), hypervisorMemory: memoryArb, debugConsole: consoleArb,
    platformInfo: fc.record({
      pciMmconfigBase: u64, pciMmconfigEndBus: u(8), pciIsVirtual: u(8), pciDomain: u(16),
      iommuUnits: fc.array(iommuArb, { maxLength: 3 }).map((units) => [...units, { type: 'AMD', base: 1n, size: 1, amd: { bdf: 0, baseCap: 0, msiCap: 0, features: 0 } }]),
    }).chain((info): fc.Arbitrary<SystemConfig['platformInfo']> =>
      arch === 'x86'
        ? fc.record({ pmTimerAddress: u(16), apicMode: u(8).map((v) => enumToName(v % 4, APIC_MODES)), vtdInterruptLimit: u(32), tscKhz: u(32), apicKhz: u(32) }).map((x86) => ({ ...info, x86 }))
        : fc.record({ maintenanceIrq: u(8), gicVersion: u(8), gicdBase: u64, giccBase: u64, gichBase: u64, gicvBase: u64, gicrBase: u64 }).map((arm) => ({ ...info, arm })),
    ),
    rootCell: cellArb(revision, arch),
  });

describe('random system configurations', () => {
  it('describe -> parse and encode -> decode give back the configuration', () => {
    const revArch = fc.tuple(fc.constantFrom(12 as const, 13 as const, 14 as const), fc.constantFrom('x86' as const, 'arm' as const, 'arm64' as const));
    fc.assert(
      fc.property(revArch.chain(([rev, arch]) => systemArb(rev, arch)), (sys) => {
        const parsed = parseConfigDescription(JSON.parse(JSON.stringify(describeConfig(sys))));
        expect(parsed.ok && parsed.config).toEqual(sys);
        const decoded = decodeConfig(encodeConfig(sys), { arch: sys.arch });
        expect(decoded.ok && decoded.config).toEqual(sys);
      }),
      { numRuns: 200, seed: 11 },
    );
  });
});

describe('readable values', () => {
  it('sizes, CPU lists and PCI addresses', () => {
    expect(['1G', '512M', '4K', '0x1000', '4096', 4096, '1_000'].map((v) => parseInteger(v))).toEqual([1n << 30n, 512n << 20n, 4096n, 4096n, 4096n, 4096n, 1000n]);
    expect(parseInteger('1X')).toBeUndefined();
    expect([0x7f000, 1 << 30, 0x1234, 0].map(formatSize)).toEqual(['508K', '1G', '0x1234', '0']);
    expect(parseCpuList('1-3,5')).toEqual([1, 2, 3, 5]);
    expect(parseCpuList([3, '1'])).toEqual([1, 3]);
    expect(parseCpuList('3-1')).toBeUndefined();
    expect(formatCpuList([5, 1, 2, 3])).toBe('1-3,5');
    expect(parseBdf('00:0e.0')).toBe(0x70);
    expect(parseBdf('01:1f.7')).toBe(0x1ff);
    expect(parseBdf('00:20.0')).toBeUndefined();
    expect(formatBdf(0x68)).toBe('00:0d.0');
  });
});

describe('description errors', () => {
  it('name the path and what was expected', () => {
    const r = parseConfigDescription({ kind: 'cell', name: 'x', cpus: 'two', memoryRegions: [{ size: '1Q' }], typo: 1 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const messages = r.problems.map((p) => p.message);
    expect(messages).toContainEqual(expect.stringContaining("cpus: expected a CPU list like '1-3,5'"));
    expect(messages).toContainEqual(expect.stringContaining('memoryRegions.0.size: expected a 64-bit unsigned integer'));
    expect(messages).toContainEqual(expect.stringMatching(/typo/));
    expect(r.problems.every((p) => p.code === 'CELLCFG_DESCRIPTION')).toBe(true);
  });
  it('a missing or wrong kind', () => {
    expect(parseConfigDescription({ name: 'x' })).toMatchObject({ ok: false, problems: [{ code: 'CELLCFG_DESCRIPTION', message: expect.stringContaining("kind must be 'system' or 'cell'") }] });
  });
  it('CPUs that do not fit the CPU set, and platform info of the wrong architecture', () => {
    expect(parseConfigDescription({ kind: 'cell', name: 'x', cpus: '64', cpuSetSize: 8 })).toMatchObject({ ok: false, problems: [{ message: expect.stringContaining('CPU 64 does not fit') }] });
    const sys = { kind: 'system', arch: 'arm64', hypervisorMemory: { physStart: 0, size: '1M' }, platformInfo: { x86: {} }, rootCell: { name: 'r' } };
    expect(parseConfigDescription(sys)).toMatchObject({ ok: false, problems: [{ message: expect.stringContaining('platformInfo.x86') }] });
  });
  it('YAML text errors carry line and column', () => {
    const r = parseConfigDescriptionText('kind: cell\nname: demo\nflags: [PASIVE_COMMREG]\n', 'demo.yaml');
    expect(r).toMatchObject({ ok: false, problems: [{ file: 'demo.yaml', line: 3, column: 8 }] });
    const syntax = parseConfigDescriptionText('kind: cell\nname: [\n', 'demo.yaml');
    expect(syntax).toMatchObject({ ok: false, problems: [{ file: 'demo.yaml', line: expect.any(Number) }] });
  });
  it('64-bit values written as plain YAML integers keep every bit', () => {
    const r = parseConfigDescriptionText('kind: cell\nname: x\ncpuResetAddress: 0xfffffffffffff001\nmemoryRegions:\n  - { physStart: 18446744073709551615, size: 4096 }\n', 'x.yaml');
    expect(r.ok && (r.config as CellConfig).cpuResetAddress).toBe(0xfffffffffffff001n);
    expect(r.ok && (r.config as CellConfig).memoryRegions[0]!.physStart).toBe(2n ** 64n - 1n);
  });
  it('describeConfigYaml parses back and keeps scalar lists on one line', () => {
    const cell = loadFixture('nuttx.yaml') as CellConfig;
    const text = describeConfigYaml(cell);
    expect(text).toContain('flags: [READ, WRITE, EXECUTE, LOADABLE, ROOTSHARED]');
    expect(parseConfigDescriptionText(text, 'n.yaml')).toEqual({ ok: true, config: cell });
  });
  it('a Cell unit can carry the configuration inline, without kind', () => {
    const r = inlineCellConfigSchema.safeParse({ name: 'nuttx', cpus: 3, flags: ['PASSIVE_COMMREG'] });
    expect(r.success && r.data).toMatchObject({ kind: 'cell', name: 'nuttx', cpus: [3], cpuSetSize: 8 });
    // Revision and arch are the hypervisor's unless written.
    expect(r.success && ['revision' in r.data, 'arch' in r.data]).toEqual([false, false]);
    expect(r.success && completeInlineCellConfig(r.data, { revision: 12, arch: 'x86' })).toMatchObject({ revision: 12, arch: 'x86' });
    const pinned = inlineCellConfigSchema.parse({ name: 'nuttx', revision: 13, arch: 'arm64' });
    expect(completeInlineCellConfig(pinned, { revision: 14, arch: 'x86' })).toMatchObject({ revision: 13, arch: 'arm64' });
    expect(inlineCellConfigSchema.safeParse({ name: 'x', revision: 15 }).success).toBe(false);
    expect(inlineCellConfigSchema.safeParse({ kind: 'cell', name: 'x' }).success).toBe(false);
    expect(inlineCellConfigSchema.safeParse({ name: 'x', cpus: 70, cpuSetSize: 8 }).success).toBe(false);
  });
  it('MMU-500 stream ids as id and mask', () => {
    const r = parseConfigDescription({ kind: 'cell', arch: 'arm64', name: 'x', cpus: 1, streamIds: [{ id: 0x870, maskOut: 0xf }, '0x10'] });
    expect(r.ok && (r.config as CellConfig).streamIds).toEqual([0x000f0870, 0x10]);
  });
  it('defaults make a minimal description complete', () => {
    const r = cellDescriptionSchema.safeParse({ kind: 'cell', name: 'tiny', cpus: 1 });
    expect(r.success && r.data).toMatchObject({ revision: 14, arch: 'x86', cpuSetSize: 8, cpus: [1], memoryRegions: [], console: { type: 'NONE' } });
    const sys = parseConfigDescription({ kind: 'system', hypervisorMemory: { physStart: '0x3a000000', size: '6M' }, rootCell: { name: 'root', cpus: '0-3' } });
    expect(sys.ok && (sys.config as SystemConfig).platformInfo.x86).toEqual({ pmTimerAddress: 0, apicMode: 'AUTO', vtdInterruptLimit: 0, tscKhz: 0, apicKhz: 0 });
  });
});
