import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeConfig, encodeConfig, type Arch, type CellConfig, type ConfigFile, type Console, type IommuUnit, type PioRegion, type SystemConfig } from '../../src/jailhouse/index.js';
import { FIXTURE_NAMES, asRevision, loadFixture } from './fixtures.js';

/**
 * What a revision-12/13 build of each fixture must decode as without an architecture, and why
 * (written out here, not computed by the code under test).
 */
const TOLD: Record<string, Arch | 'refused'> = {
  'apic-demo.yaml': 'x86', // port I/O region, 8250 UART on port I/O
  'gic-demo-arm64.yaml': 'arm64', // irqchip pinBase 32, PL011 console, a stream id
  'nuttx.yaml': 'x86', // port I/O region
  'orangepi0-arm-rev12.yaml': 'refused', // GICv2 and an MMIO 8250: ARM, but nothing arm64-only
  'orangepi0-gic-demo-arm-rev12.yaml': 'refused', // likewise
  'qemu-arm64.yaml': 'arm64', // GICv3 redistributor where x86 has unused bytes, SMMUv3 and PVU units
  'qemu-x86.yaml': 'x86', // pm timer 0x608 reads as GIC version 6, Intel IOMMU, port I/O
  'zcu102-arm64-rev13.yaml': 'arm64', // GICv2 bases where x86 has unused bytes, MMU-500, stream ids
};

function undecided(bytes: Uint8Array) {
  const r = decodeConfig(bytes);
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('unreachable');
  expect(r.problems).toHaveLength(1);
  expect(r.problems[0]).toMatchObject({ code: 'CELLCFG_ARCH_UNKNOWN', offset: 0 });
  return r.problems[0]!;
}

function told(bytes: Uint8Array) {
  const r = decodeConfig(bytes);
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('; '));
  expect(r.archSource.how).toBe('inferred');
  return { arch: r.config.arch, reasons: r.archSource.how === 'inferred' ? r.archSource.reasons : [], config: r.config };
}

describe('revision 12/13 fixtures without an architecture', () => {
  it('every fixture has its expected verdict written down', () => {
    expect(Object.keys(TOLD).sort()).toEqual(FIXTURE_NAMES);
  });
  for (const name of FIXTURE_NAMES) {
    for (const revision of [12, 13] as const) {
      it(`${name} as revision ${revision}: ${TOLD[name] === 'refused' ? 'refused, and read with --arch' : `read as ${TOLD[name]}, byte-identical`}`, () => {
        const config = asRevision(loadFixture(name), revision);
        const bytes = encodeConfig(config);
        if (TOLD[name] === 'refused') {
          const p = undecided(bytes);
          expect(p.message).toContain('nothing in it tells arm from arm64 (both lay the file out the same way)');
          expect(p.hint).toBe(config.kind === 'system' ? 'pass --arch x86|arm|arm64' : 'pass --arch x86|arm|arm64, or --system SYSTEM.cell to take it from the system configuration the cell belongs to');
          const given = decodeConfig(bytes, { arch: config.arch });
          expect(given.ok && Buffer.from(encodeConfig(given.config)).equals(Buffer.from(bytes))).toBe(true);
          return;
        }
        const r = told(bytes);
        expect(r.arch).toBe(TOLD[name]);
        expect(r.config).toEqual(config);
        expect(Buffer.from(encodeConfig(r.config)).equals(Buffer.from(bytes))).toBe(true);
      });
    }
  }
});

describe('the misreadings of the issue do not happen', () => {
  it('a revision-13 arm64 GICv2 system: no x86 section with the GIC base as vtdInterruptLimit', () => {
    const zcu = loadFixture('zcu102-arm64-rev13.yaml') as SystemConfig;
    const bytes = encodeConfig(zcu);
    // What a default of x86 made of it.
    const asX86 = decodeConfig(bytes, { arch: 'x86' });
    expect(asX86.ok && asX86.config.kind === 'system' && asX86.config.platformInfo.x86?.vtdInterruptLimit).toBe(4177592320);
    const r = told(bytes);
    const info = r.config.kind === 'system' ? r.config.platformInfo : undefined;
    expect(info && 'x86' in info).toBe(false);
    expect(info?.arm).toMatchObject({ gicdBase: 0xf9010000n, gicVersion: 2 });
    expect(r.reasons).toEqual([
      // gich_base 0xf9040000 at 0x14c: its third byte
      'byte 0x14e of the platform info is 0x4 (x86 does not use 0x148..0x164 and leaves it zero)',
      'IOMMU unit 0 is ARM_MMU500 (only the arm64 hypervisor drives SMMU and PVU units)',
    ]);
  });
  it('a revision-13 GICv3 system without arm64-only features is refused, where x86 would have lost gicr_base', () => {
    const qemu = asRevision(loadFixture('qemu-arm64.yaml') as SystemConfig, 13);
    qemu.platformInfo.iommuUnits = [];
    qemu.rootCell.streamIds = [];
    const bytes = encodeConfig(qemu);
    const asX86 = decodeConfig(bytes, { arch: 'x86' });
    expect(asX86.ok && Buffer.from(encodeConfig(asX86.config)).equals(Buffer.from(bytes))).toBe(false);
    const p = undecided(bytes);
    expect(p.message).toMatch(/^this revision-13 system configuration carries no architecture byte, and nothing in it tells arm from arm64 \(both lay the file out the same way\); looked at its platform info .*; found: /);
    expect(p.message).toContain('root cell irqchip 0 has pinBase 32 (x86 requires 0)');
    const given = decodeConfig(bytes, { arch: 'arm64' });
    expect(given.ok && given.config.kind === 'system' && given.config.platformInfo.arm?.gicrBase).toBe(0x80a0000n);
  });
});

/** A cell that says nothing about its architecture: RAM and the comm region. */
function blankCell(): CellConfig {
  const cell = structuredClone(loadFixture('apic-demo.yaml') as CellConfig);
  return { ...cell, revision: 13, pioRegions: [], cacheRegions: [], console: { ...cell.console, type: 'NONE', address: 0n, flags: [] } };
}

const uart = (type: string, flags: string[]): Console => ({ address: 0x9000000n, size: 0x1000, type, flags, divider: 0, gateNr: 0, clockReg: 0n });
const chip = (pinBase: number) => ({ address: 0x8000000n, id: 0, pinBase, pinBitmap: [1, 0, 0, 0] as [number, number, number, number] });

describe('clues of a cell configuration', () => {
  const cases: [string, Partial<CellConfig>, Arch | 'refused' | 'contradiction'][] = [
    ['nothing', {}, 'refused'],
    ['an irqchip at pinBase 32 (ARM, not which one)', { irqchips: [chip(32)] }, 'refused'],
    ['an irqchip at pinBase 0', { irqchips: [chip(0)] }, 'refused'],
    ['pinBase 32 and a stream id', { irqchips: [chip(32)], streamIds: [0x10] }, 'arm64'],
    ['a stream id alone', { streamIds: [0x10] }, 'arm64'],
    ['the AARCH32 flag', { flags: ['AARCH32'] }, 'arm64'],
    ['pinBase 32 and a start above 4 GiB', { irqchips: [chip(32)], cpuResetAddress: 0x1_0000_0000n }, 'arm64'],
    ['a start above 4 GiB alone (x86 is not ruled out by it)', { cpuResetAddress: 0x1_0000_0000n }, 'refused'],
    ['memory above 4 GiB (not proof: LPAE)', { irqchips: [chip(32)], memoryRegions: [{ physStart: 0x8_0000_0000n, virtStart: 0n, size: 0x10000n, flags: ['READ', 'WRITE', 'LOADABLE'] }] }, 'refused'],
    ['a port I/O region', { pioRegions: [{ base: 0x2f8, length: 8 }] }, 'x86'],
    ['the TEST_DEVICE flag', { flags: ['TEST_DEVICE'] }, 'x86'],
    ['an EFI framebuffer console', { console: uart('EFIFB', []) }, 'x86'],
    ['an 8250 console on port I/O', { console: uart('8250', []) }, 'x86'],
    ['an 8250 console on MMIO', { console: uart('8250', ['ACCESS_MMIO']) }, 'refused'],
    ['a PL011 console', { console: uart('PL011', ['ACCESS_MMIO']) }, 'refused'],
    ['a PL011 console and a stream id', { console: uart('PL011', ['ACCESS_MMIO']), streamIds: [1] }, 'arm64'],
    ['pinBase 40 (neither x86 nor ARM allows it)', { irqchips: [chip(40)] }, 'contradiction'],
    ['a port I/O region and pinBase 32', { pioRegions: [{ base: 0x2f8, length: 8 }], irqchips: [chip(32)] }, 'contradiction'],
  ];
  for (const [what, change, expected] of cases) {
    it(`${what}: ${expected}`, () => {
      const bytes = encodeConfig({ ...blankCell(), ...change });
      if (expected === 'refused' || expected === 'contradiction') {
        const p = undecided(bytes);
        if (expected === 'contradiction') expect(p.message).toContain('rules out every architecture');
        else expect(p.message).toContain('looked at its irqchips, port I/O regions, stream ids, flags, console and CPU reset address');
        return;
      }
      expect(told(bytes).arch).toBe(expected);
    });
  }
  it('names what ruled out each other architecture', () => {
    expect(told(encodeConfig({ ...blankCell(), irqchips: [chip(32)], streamIds: [0x10] })).reasons).toEqual([
      "cell 'apic-demo' irqchip 0 has pinBase 32 (x86 requires 0)",
      "cell 'apic-demo' has 1 stream id(s) (only arm64 has the IOMMUs that use them)",
    ]);
    const p = undecided(encodeConfig(blankCell()));
    expect(p.message).toBe(
      'this revision-13 cell configuration carries no architecture byte, and nothing in it tells x86 from arm from arm64; looked at its irqchips, port I/O regions, stream ids, flags, console and CPU reset address',
    );
  });
});

/** A system that says nothing but its platform info. */
function bareSystem(base: string, revision: 12 | 13): SystemConfig {
  const sys = asRevision(structuredClone(loadFixture(base) as SystemConfig), revision);
  sys.platformInfo.iommuUnits = [];
  sys.debugConsole = { ...sys.debugConsole, type: 'NONE', flags: [] };
  sys.rootCell = { ...sys.rootCell, irqchips: [], pioRegions: [], streamIds: [], pciDevices: [], pciCaps: [], console: { ...sys.rootCell.console, type: 'NONE', flags: [] } };
  return sys;
}

describe('clues of a system configuration (platform info read both ways)', () => {
  const x86 = (revision: 12 | 13, info: Partial<NonNullable<SystemConfig['platformInfo']['x86']>>): SystemConfig => {
    const sys = bareSystem('qemu-x86.yaml', revision);
    sys.platformInfo.x86 = { ...sys.platformInfo.x86!, ...info };
    return sys;
  };
  const arm = (revision: 12 | 13, info: Partial<NonNullable<SystemConfig['platformInfo']['arm']>>, units: IommuUnit[] = []): SystemConfig => {
    const sys = bareSystem('qemu-arm64.yaml', revision);
    sys.platformInfo.arm = { ...sys.platformInfo.arm!, ...info };
    sys.platformInfo.iommuUnits = units;
    return sys;
  };
  const cases: [string, () => SystemConfig, Arch | 'refused'][] = [];
  for (const rev of [12, 13] as const) {
    cases.push(
      [`rev ${rev}: x86 whose pm timer reads as GIC version 3 with maintenance IRQ 25, and vtd limit as a page-aligned GICD`, () => x86(rev, { pmTimerAddress: 0x319, vtdInterruptLimit: 0x10000 }), 'x86'],
      [`rev ${rev}: x86 with a zero platform info (no GIC version)`, () => x86(rev, { pmTimerAddress: 0, vtdInterruptLimit: 0 }), 'x86'],
      [`rev ${rev}: x86 in X2APIC mode whose pm timer reads as GIC version 2`, () => x86(rev, { pmTimerAddress: 0x219, apicMode: 'X2APIC', vtdInterruptLimit: 0x8000, tscKhz: 0x2000, apicKhz: 0x3000 }), 'x86'],
      [`rev ${rev}: GICv2 ARM, no IOMMU`, () => arm(rev, { gicVersion: 2, gicdBase: 0x2c001000n, giccBase: 0x2c002000n, gichBase: 0x2c004000n, gicvBase: 0x2c006000n, gicrBase: 0n }), 'refused'],
      [`rev ${rev}: GICv2 ARM with an SMMUv3`, () => arm(rev, { gicVersion: 2, gicdBase: 0x2c001000n, giccBase: 0x2c002000n, gichBase: 0x2c004000n, gicvBase: 0x2c006000n, gicrBase: 0n }, [{ type: 'SMMUV3', base: 0x9050000n, size: 0x20000 }]), 'arm64'],
      [`rev ${rev}: GICv3 ARM with an MMU-500`, () => arm(rev, {}, [{ type: 'ARM_MMU500', base: 0xfd800000n, size: 0x20000 }]), 'arm64'],
    );
  }
  cases.push(
    // Where x86 has unused bytes, revision 13 has the redistributor base.
    ['rev 13: GICv3 ARM, no IOMMU', () => arm(13, {}), 'refused'],
    // Revision 12 puts the redistributor where x86 has its first IOMMU unit's union: nothing x86 refuses.
    ['rev 12: GICv3 ARM, nothing else', () => arm(12, {}), 'refused'],
    ['rev 12: GICv3 ARM with its root irqchip', () => ({ ...arm(12, {}), rootCell: { ...arm(12, {}).rootCell, irqchips: [chip(32)] } }), 'refused'],
    ['rev 13: x86 with an Intel IOMMU and a GIC-looking platform', () => ({ ...x86(13, { pmTimerAddress: 0x319, vtdInterruptLimit: 0x10000 }), platformInfo: { ...x86(13, {}).platformInfo, x86: { pmTimerAddress: 0x319, apicMode: 'AUTO', vtdInterruptLimit: 0x10000, tscKhz: 0, apicKhz: 0 }, iommuUnits: [{ type: 'INTEL', base: 0xfed90000n, size: 0x1000 }] } }), 'x86'],
    ['rev 13: a PL011 debug console on an otherwise bare GICv3', () => ({ ...arm(13, {}), debugConsole: uart('PL011', ['ACCESS_MMIO']) }), 'refused'],
  );
  for (const [what, make, expected] of cases) {
    it(`${what}: ${expected}`, () => {
      const sys = make();
      const bytes = encodeConfig(sys);
      if (expected === 'refused') {
        expect(undecided(bytes).message).toContain('looked at its platform info');
        return;
      }
      const r = told(bytes);
      expect(r.arch).toBe(expected);
      expect(r.config).toEqual(sys);
    });
  }
  it('rev 12: a bare GICv3 system fits all three layouts; its root irqchip at pinBase 32 rules out x86', () => {
    expect(undecided(encodeConfig(arm(12, {}, [])))).toMatchObject({ message: expect.stringContaining('nothing in it tells x86 from arm from arm64') });
    const withChip = arm(12, {});
    withChip.rootCell.irqchips = [chip(32)];
    expect(undecided(encodeConfig(withChip)).message).toContain('nothing in it tells arm from arm64');
  });
});

// ---------------------------------------------------------------------------------------------
// Soundness: configurations that are what their architecture allows are never given another one.

const u = (bits: 8 | 16 | 32) => fc.nat(2 ** bits - 1);
const page = fc.bigInt({ min: 1n, max: (1n << 40n) - 1n }).map((p) => p << 12n);
const below4G = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n });

const consoleOf = (types: readonly string[], mmio: fc.Arbitrary<boolean>): fc.Arbitrary<Console> =>
  fc.record({ type: fc.constantFrom(...types), mmio, address: fc.bigInt({ min: 0n, max: 0xffffffffn }) }).map(({ type, mmio: m, address }) => ({
    address,
    size: 0x1000,
    type,
    flags: m ? ['ACCESS_MMIO'] : [],
    divider: 0,
    gateNr: 0,
    clockReg: 0n,
  }));

/** A console the architecture has (x86: 8250 on either access, EFI framebuffer; ARM: MMIO UARTs). */
const consoleFor = (arch: Arch): fc.Arbitrary<Console> =>
  arch === 'x86' ? consoleOf(['NONE', '8250', 'EFIFB'], fc.boolean()) : consoleOf(['NONE', '8250', 'PL011', 'XUARTPS', 'MVEBU', 'HSCIF', 'SCIFA', 'IMX', 'IMX_LPUART', 'SCIF'], fc.constant(true));

function cellFor(arch: Arch, revision: 12 | 13, isRoot: boolean): fc.Arbitrary<CellConfig> {
  const isArm = arch !== 'x86';
  return fc.record({
    irqchips: fc.array(fc.record({ address: page, id: u(32), pinBase: isArm ? fc.nat(31).map((k) => 32 * k) : fc.constant(0), pinBitmap: fc.tuple(u(32), u(32), u(32), u(32)) }), { maxLength: 2 }),
    pioRegions: isArm ? fc.constant<PioRegion[]>([]) : fc.array(fc.record({ base: u(16), length: u(16) }), { maxLength: 2 }),
    streamIds: arch === 'arm64' ? fc.array(u(32), { maxLength: 2 }) : fc.constant<number[]>([]),
    flags: fc.subarray(arch === 'x86' ? ['PASSIVE_COMMREG', 'TEST_DEVICE'] : arch === 'arm64' ? ['PASSIVE_COMMREG', 'AARCH32'] : ['PASSIVE_COMMREG']),
    cpuResetAddress: arch === 'arm' && !isRoot ? below4G : fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    console: consoleFor(arch),
  }).map((body) => ({ ...structuredClone(blankCell()), ...body, revision, arch }));
}

function systemFor(arch: Arch, revision: 12 | 13): fc.Arbitrary<SystemConfig> {
  const base = asRevision(structuredClone(loadFixture(arch === 'x86' ? 'qemu-x86.yaml' : 'qemu-arm64.yaml') as SystemConfig), revision);
  const units: fc.Arbitrary<IommuUnit[]> =
    arch === 'x86'
      ? fc.array(fc.oneof(fc.constant<IommuUnit>({ type: 'INTEL', base: 0xfed90000n, size: 0x1000 }), fc.constant<IommuUnit>({ type: 'AMD', base: 0xfeb80000n, size: 0x80000, amd: { bdf: 2, baseCap: 0x40, msiCap: 0x54, features: 0 } })), { maxLength: 2 })
      : arch === 'arm64'
        ? fc.array(fc.constantFrom<IommuUnit>({ type: 'SMMUV3', base: 0x9050000n, size: 0x20000 }, { type: 'ARM_MMU500', base: 0xfd800000n, size: 0x20000 }), { maxLength: 2 })
        : fc.constant<IommuUnit[]>([]);
  const platform =
    arch === 'x86'
      ? fc.record({ pmTimerAddress: u(16), apicMode: fc.constantFrom('AUTO', 'XAPIC', 'X2APIC'), vtdInterruptLimit: u(32), tscKhz: u(32), apicKhz: u(32) }).map((x86) => ({ x86 }))
      : fc.record({ maintenanceIrq: fc.integer({ min: 16, max: 31 }), gicVersion: fc.constantFrom(2, 3), gicdBase: page, giccBase: page, gichBase: page, gicvBase: page, gicrBase: page }).map((a) => ({ arm: a }));
  return fc.record({ units, platform, debugConsole: consoleFor(arch), rootCell: cellFor(arch, revision, true) }).map(({ units: iommuUnits, platform: p, debugConsole, rootCell }) => ({
    ...base,
    debugConsole,
    platformInfo: { ...base.platformInfo, x86: undefined, arm: undefined, ...p, iommuUnits },
    rootCell: { ...rootCell, name: 'root' },
  })).map((sys) => {
    const { x86: px, arm: pa, ...common } = sys.platformInfo;
    return { ...sys, platformInfo: { ...common, ...(px ? { x86: px } : {}), ...(pa ? { arm: pa } : {}) } };
  });
}

describe('inference is sound: what an architecture allows is never read as another', () => {
  const pick = fc.tuple(fc.constantFrom<Arch>('x86', 'arm', 'arm64'), fc.constantFrom(12 as const, 13 as const), fc.boolean());
  it('800 random cell and system configurations: the right architecture, byte-identical, or refused', () => {
    const verdicts = { told: 0, refused: 0 };
    fc.assert(
      fc.property(
        pick.chain(([arch, revision, system]) => (system ? systemFor(arch, revision) : cellFor(arch, revision, false)) as fc.Arbitrary<ConfigFile>),
        (config) => {
          const bytes = encodeConfig(config);
          const r = decodeConfig(bytes);
          if (!r.ok) {
            expect(r.problems.map((p) => p.code)).toEqual(['CELLCFG_ARCH_UNKNOWN']);
            verdicts.refused++;
            return;
          }
          expect(r.config.arch).toBe(config.arch);
          expect(Buffer.from(encodeConfig(r.config)).equals(Buffer.from(bytes))).toBe(true);
          verdicts.told++;
        },
      ),
      { numRuns: 800, seed: 1212 },
    );
    // Both outcomes occur, so neither half of the property holds vacuously.
    expect(verdicts.told).toBeGreaterThan(200);
    expect(verdicts.refused).toBeGreaterThan(50);
  });
});
