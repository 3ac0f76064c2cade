import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeConfig, encodeConfig, type CellConfig, type SystemConfig } from '../../src/jailhouse/index.js';
import { FIXTURE_NAMES, REVISIONS, asRevision, loadFixture } from './fixtures.js';

const apic = (): CellConfig => loadFixture('apic-demo.yaml') as CellConfig;
const x86 = (): SystemConfig => loadFixture('qemu-x86.yaml') as SystemConfig;

function problemOf(bytes: Uint8Array, arch?: 'x86' | 'arm' | 'arm64') {
  const r = decodeConfig(bytes, arch ? { arch } : {});
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('unreachable');
  expect(r.problems).toHaveLength(1);
  return r.problems[0]!;
}

describe('decodeConfig reports bad input with offset and expectation', () => {
  it('empty and short files', () => {
    expect(problemOf(new Uint8Array(0))).toMatchObject({ code: 'CELLCFG_TRUNCATED', offset: 0 });
    expect(problemOf(new Uint8Array([0x4a, 0x48]))).toMatchObject({ code: 'CELLCFG_TRUNCATED', offset: 0, message: expect.stringContaining('file ends at byte 2') });
  });
  it('a cell cut inside its header', () => {
    const p = problemOf(encodeConfig(apic()).subarray(0, 100));
    expect(p).toMatchObject({ code: 'CELLCFG_TRUNCATED', offset: 0 });
    expect(p.message).toContain('the cell header');
  });
  it('a system cut inside its header or its root cell arrays', () => {
    const bytes = encodeConfig(x86());
    expect(problemOf(bytes.subarray(0, 300)).code).toBe('CELLCFG_TRUNCATED');
    const p = problemOf(bytes.subarray(0, bytes.length - 1));
    expect(p.code).toBe('CELLCFG_COUNTS_PAST_END');
    expect(p.offset).toBe(356 + 72); // num_pci_caps: the last array that has entries
  });
  it('a wrong signature', () => {
    const bytes = encodeConfig(apic());
    bytes.set([0x45, 0x4c, 0x46], 0);
    const p = problemOf(bytes);
    expect(p).toMatchObject({ code: 'CELLCFG_BAD_SIGNATURE', offset: 0 });
    expect(p.message).toContain('JHCLL');
  });
  it('an unknown revision, in both signature styles', () => {
    const v14 = encodeConfig(apic());
    new DataView(v14.buffer).setUint16(6, 15, true);
    expect(problemOf(v14)).toMatchObject({ code: 'CELLCFG_UNKNOWN_REVISION', offset: 6 });
    const v12 = encodeConfig(asRevision(apic(), 12));
    new DataView(v12.buffer).setUint16(6, 14, true);
    expect(problemOf(v12)).toMatchObject({ code: 'CELLCFG_UNKNOWN_REVISION', offset: 6, hint: expect.stringContaining('JHCLL') });
  });
  it('counts that run past the end of the file name the count field', () => {
    const bytes = encodeConfig(apic());
    new DataView(bytes.buffer).setUint32(68, 0xffffffff, true);
    const p = problemOf(bytes);
    expect(p).toMatchObject({ code: 'CELLCFG_COUNTS_PAST_END', offset: 68 });
    expect(p.message).toContain('num_pci_devices = 4294967295');
    const huge = encodeConfig(apic());
    new DataView(huge.buffer).setUint32(48, 0x7fffffff, true);
    expect(problemOf(huge)).toMatchObject({ code: 'CELLCFG_COUNTS_PAST_END', offset: 48 });
  });
  it('an architecture byte out of range', () => {
    const bytes = encodeConfig(x86());
    bytes[5] = 3;
    const p = problemOf(bytes);
    expect(p).toMatchObject({ code: 'CELLCFG_BAD_ARCH', offset: 5 });
    expect(p.message).toContain('expected 0 (x86), 1 (arm) or 2 (arm64)');
  });
  it('the early revision-13 layout (root cell at 354) is recognised, not misread', () => {
    const bytes = encodeConfig(asRevision(x86(), 12));
    new DataView(bytes.buffer).setUint16(6, 13, true);
    expect(problemOf(bytes)).toMatchObject({ code: 'CELLCFG_REV13_EARLY', offset: 354 });
  });
});

describe('decodeConfig keeps what it does not interpret', () => {
  it('trailing bytes after the described size survive a round trip', () => {
    const body = encodeConfig(apic());
    const bytes = new Uint8Array(body.length + 56);
    bytes.set(body);
    bytes.fill(0xab, body.length);
    const r = decodeConfig(bytes);
    expect(r.ok && r.config.kind === 'cell' && r.config.trailing?.length).toBe(56);
    expect(r.ok && Buffer.from(encodeConfig(r.config)).equals(Buffer.from(bytes))).toBe(true);
  });
  it('an IOMMU union the typed view cannot express (MMU-500 sid_mask) survives', () => {
    const sys = loadFixture('qemu-arm64.yaml') as SystemConfig;
    sys.platformInfo.iommuUnits.push({ type: 'ARM_MMU500', base: 0xfd800000n, size: 0x20000, unionBytes: Uint8Array.from([0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) });
    const bytes = encodeConfig(asRevision(sys, 13));
    const r = decodeConfig(bytes, { arch: 'arm64' });
    expect(r.ok && r.config.kind === 'system' && r.config.platformInfo.iommuUnits[2]?.unionBytes?.[0]).toBe(0xff);
    expect(r.ok && Buffer.from(encodeConfig(r.config)).equals(Buffer.from(bytes))).toBe(true);
  });
  it('a PCI device type outside 1..3 is kept as hex (the hypervisor takes it for a device)', () => {
    const cell = loadFixture('nuttx.yaml') as CellConfig;
    const bytes = encodeConfig(cell);
    const at = 132 + 8 + 32 * cell.memoryRegions.length + 4 * cell.pioRegions.length;
    expect(bytes[at]).toBe(3);
    for (const [value, name] of [[9, '0x9'], [0, '0x0'], [0xff, '0xff']] as const) {
      bytes[at] = value;
      const r = decodeConfig(bytes);
      expect(r.ok && r.config.kind === 'cell' && r.config.pciDevices[0]!.type).toBe(name);
      expect(r.ok && Buffer.from(encodeConfig(r.config)).equals(Buffer.from(bytes))).toBe(true);
    }
  });
  it('revision 12/13 take an architecture option as given; revision 14 its byte', () => {
    const arm = asRevision(loadFixture('qemu-arm64.yaml') as SystemConfig, 12);
    const bytes = encodeConfig(arm);
    const asArm = decodeConfig(bytes, { arch: 'arm64' });
    expect(asArm.ok && asArm.config).toEqual(arm);
    expect(asArm.ok && asArm.archSource).toEqual({ how: 'given' });
    // The option means "this architecture": nothing is inferred, even against what the file says.
    const asX86 = decodeConfig(bytes, { arch: 'x86' });
    expect(asX86.ok && asX86.config.arch).toBe('x86');
    const v14 = decodeConfig(encodeConfig(loadFixture('qemu-arm64.yaml')), { arch: 'x86' });
    expect(v14.ok && [v14.config.arch, v14.archSource]).toEqual(['arm64', { how: 'byte' }]);
  });
  it('a name filling all 32 bytes (no NUL) decodes and re-encodes as it is', () => {
    const bytes = encodeConfig({ ...apic(), name: 'n'.repeat(31) });
    bytes[39] = 0x6e;
    const r = decodeConfig(bytes);
    expect(r.ok && r.config.kind === 'cell' && r.config.name).toBe('n'.repeat(32));
    expect(r.ok && Buffer.from(encodeConfig(r.config)).equals(Buffer.from(bytes))).toBe(true);
  });
  it('reads a view into a larger buffer (a Buffer slice) at its own offset', () => {
    const bytes = encodeConfig(x86());
    const pool = new Uint8Array(bytes.length + 100).fill(0xee);
    pool.set(bytes, 37);
    const r = decodeConfig(pool.subarray(37, 37 + bytes.length));
    expect(r.ok && r.config).toEqual(x86());
  });
  it('a name of 31 characters and CPUs beyond the first 64', () => {
    const cell = { ...apic(), name: 'n'.repeat(31), cpuSetSize: 16, cpus: [2, 64, 127] };
    const r = decodeConfig(encodeConfig(cell));
    expect(r.ok && r.config).toEqual(cell);
  });
});

describe('the encoder refuses values that do not fit', () => {
  it('names a value too wide for its field', () => {
    const cell = apic();
    cell.pioRegions[0]!.base = 0x10000;
    expect(() => encodeConfig(cell)).toThrow(/base = 65536 does not fit 2-byte field/);
  });
  it('a CPU outside the CPU set and an unknown flag', () => {
    expect(() => encodeConfig({ ...apic(), cpus: [64] })).toThrow(/CPU 64 does not fit/);
    expect(() => encodeConfig({ ...apic(), flags: ['PASSIVE'] })).toThrow(/unknown flag 'PASSIVE'/);
  });
});

describe('fuzz: random mutations of every fixture never escape as exceptions', () => {
  const seeds = FIXTURE_NAMES.flatMap((name) => REVISIONS.map((rev) => {
    const config = asRevision(loadFixture(name), rev);
    return { bytes: encodeConfig(config), arch: config.arch };
  }));
  const known = /^CELLCFG_(TRUNCATED|BAD_SIGNATURE|UNKNOWN_REVISION|COUNTS_PAST_END|BAD_ARCH|BAD_VALUE|REV13_EARLY)$/;

  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.nat(255) }),
    fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.nat(0xffffffff) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.nat() }),
    fc.record({ kind: fc.constant('count' as const), at: fc.integer({ min: 0, max: 8 }), value: fc.oneof(fc.nat(64), fc.nat(0xffffffff)) }),
  );

  function mutate(src: Uint8Array, muts: { kind: string; at: number; value: number }[]): Uint8Array {
    let bytes = src.slice();
    for (const m of muts) {
      const v = new DataView(bytes.buffer);
      if (bytes.length === 0) break;
      const at = m.at % bytes.length;
      if (m.kind === 'byte') bytes[at] = m.value;
      else if (m.kind === 'u32' && at + 4 <= bytes.length) v.setUint32(at, m.value, true);
      else if (m.kind === 'truncate') bytes = bytes.slice(0, at);
      else if (m.kind === 'count') {
        // Hit the header fields that steer the parser: cpu_set_size and the seven counts, in a
        // cell file at 48.., in a system at 354/356 + 48...
        const base = bytes.length >= 8 && bytes[2] === 0x53 ? (v.getUint16(6, true) === 12 ? 354 : 356) : 0;
        const off = base + 48 + 4 * m.at;
        if (off + 4 <= bytes.length) v.setUint32(off, m.value, true);
      }
    }
    return bytes;
  }

  it('2,500 mutated files: a typed problem or a config that re-encodes consistently', () => {
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seedIndex, muts) => {
        const seed = seeds[seedIndex]!;
        const bytes = mutate(seed.bytes, muts);
        const r = decodeConfig(bytes, { arch: seed.arch });
        if (!r.ok) {
          expect(r.problems[0]!.code).toMatch(known);
          expect(r.problems[0]!.offset).toBeGreaterThanOrEqual(0);
          expect(r.problems[0]!.offset).toBeLessThanOrEqual(bytes.length);
          return;
        }
        // What decodes, encodes, and decodes again to the same configuration.
        const again = decodeConfig(encodeConfig(r.config), { arch: seed.arch });
        expect(again.ok && again.config).toEqual(r.config);
      }),
      { numRuns: 2500, seed: 20261122 },
    );
  });

  it('1,000 mutated files without an architecture: a typed problem or an architecture the bytes re-encode under', () => {
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seedIndex, muts) => {
        const bytes = mutate(seeds[seedIndex]!.bytes, muts);
        const r = decodeConfig(bytes);
        if (!r.ok) {
          expect(r.problems[0]!.code).toMatch(/^CELLCFG_(TRUNCATED|BAD_SIGNATURE|UNKNOWN_REVISION|COUNTS_PAST_END|BAD_ARCH|BAD_VALUE|REV13_EARLY|ARCH_UNKNOWN)$/);
          return;
        }
        const again = decodeConfig(encodeConfig(r.config), { arch: r.config.arch });
        expect(again.ok && again.config).toEqual(r.config);
      }),
      { numRuns: 1000, seed: 20261123 },
    );
  });
});
