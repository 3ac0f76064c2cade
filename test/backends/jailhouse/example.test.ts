/**
 * The cRTOS example in its short form (units/crtos: two Link units, a NuttX cell that says only
 * what is its own, the base system configuration `jailhouse config create` makes) generates,
 * byte for byte, the configurations the cRTOS guide's hand edits produce: the ones the simulated
 * machine ships (src/sim/crtos-example.ts), and the consistency checks find nothing in them.
 */
import { describe, expect, it } from 'vitest';
import { filesHost } from '../../helpers/files-host.js';
import { describeUnits } from '../../../src/engine/description.js';
import { encodeExampleConfigs, crtosBaseSystemConfig, crtosSystemConfig, nuttxCellConfig, INMATE_MEMORY, type ExampleOptions } from '../../../src/sim/crtos-example.js';
import { layOut } from '../../../src/backends/jailhouse/layout.js';
import type { JailhouseHypervisor } from '../../../src/backends/jailhouse/definition.js';
import { machineFiles } from '../../../src/transaction/machine-files.js';
import { checkConfigs, describeConfigYaml, encodeConfig, type PciDevice } from '../../../src/jailhouse/index.js';
import { build, exampleFiles } from '../../units/helpers.js';

const hypervisorMemory = { physStart: 0x3a000000n, size: 0x6000000n };


/** units/crtos, with the Hypervisor's architecture where the configurations do not carry it. */
function exampleSet(arch: ExampleOptions['arch']) {
  const files = exampleFiles('crtos');
  files['units/crtos/jailhouse.yaml'] = files['units/crtos/jailhouse.yaml']!.replace('type: jailhouse\n', `type: jailhouse\narch: ${arch}\n`);
  const r = build(files);
  expect(r.problems.filter((p) => p.severity !== 'warning')).toEqual([]);
  return r.set!;
}

const cases: ExampleOptions[] = [
  { revision: 12, arch: 'x86', cpus: 4, hypervisorMemory },
  { revision: 13, arch: 'x86', cpus: 4, hypervisorMemory },
  { revision: 14, arch: 'x86', cpus: 4, hypervisorMemory },
];

describe('units/crtos: both sides of the links generated', () => {
  for (const o of cases) {
    it(`revision ${o.revision} ${o.arch}: the system and nuttx configurations equal the hand-written ones byte for byte`, async () => {
      const shipped = encodeExampleConfigs(o);
      const descriptions = await describeUnits(exampleSet(o.arch), filesHost({ '/etc/jailhouse/sysconfig-base.cell': shipped.base, '/opt/crtos/nuttx.bin': new Uint8Array(8) }));
      const hv = descriptions.get('jailhouse.hypervisor')!;
      const cell = descriptions.get('nuttx.cell')!;
      expect(hv.problem).toBeUndefined();
      expect(cell.problem).toBeUndefined();
      expect(hv.inlineConfig?.path).toBe('/run/crtos/hypervisors/jailhouse.cell');
      expect(Buffer.from(hv.inlineConfig!.bytes).equals(Buffer.from(shipped.system))).toBe(true);
      expect(Buffer.from(cell.inlineConfig!.bytes).equals(Buffer.from(shipped.nuttx))).toBe(true);
      const findings = checkConfigs({ system: { file: 'sysconfig', config: crtosSystemConfig(o) }, cells: [{ file: 'nuttx', config: nuttxCellConfig(o) }] });
      expect(findings.filter((f) => (f.severity ?? 'error') === 'error')).toEqual([]);
    });
  }

  it('arm64: the same, but ivshmem-net gets INTx (no vector given: upstream ARM configurations use INTx)', async () => {
    const o: ExampleOptions = { revision: 14, arch: 'arm64', cpus: 4, hypervisorMemory };
    const intx = (d: PciDevice): PciDevice => (d.shmemProtocol === 1 ? { ...d, numMsixVectors: 0, barMask: [0xfffff000, 0, 0, 0, 0, 0] } : d);
    const system = crtosSystemConfig(o);
    const nuttx = nuttxCellConfig(o);
    const expected = {
      system: encodeConfig({ ...system, rootCell: { ...system.rootCell, pciDevices: system.rootCell.pciDevices.map(intx) } }),
      nuttx: encodeConfig({ ...nuttx, pciDevices: nuttx.pciDevices.map(intx) }),
    };
    const descriptions = await describeUnits(exampleSet('arm64'), filesHost({ '/etc/jailhouse/sysconfig-base.cell': encodeExampleConfigs(o).base }));
    expect(Buffer.from(descriptions.get('jailhouse.hypervisor')!.inlineConfig!.bytes).equals(Buffer.from(expected.system))).toBe(true);
    expect(Buffer.from(descriptions.get('nuttx.cell')!.inlineConfig!.bytes).equals(Buffer.from(expected.nuttx))).toBe(true);
  });

  it('a base as `jailhouse config create` writes it, with the inmate memory as a root cell region: that region is carved into the links', async () => {
    const o = cases[0]!;
    const base = crtosBaseSystemConfig(o);
    const inmate = { physStart: INMATE_MEMORY.start, virtStart: INMATE_MEMORY.start, size: INMATE_MEMORY.size, flags: ['READ', 'WRITE'] };
    const created = encodeConfig({ ...base, rootCell: { ...base.rootCell, memoryRegions: [...base.rootCell.memoryRegions, inmate] } });
    const descriptions = await describeUnits(exampleSet(o.arch), filesHost({ '/etc/jailhouse/sysconfig-base.cell': created }));
    expect(Buffer.from(descriptions.get('jailhouse.hypervisor')!.inlineConfig!.bytes).equals(Buffer.from(encodeExampleConfigs(o).system))).toBe(true);
  });

  it('a root cell region that covers the pool only in part is an error at linkPool', async () => {
    const o = cases[0]!;
    const base = crtosBaseSystemConfig(o);
    const part = { physStart: INMATE_MEMORY.start, virtStart: INMATE_MEMORY.start, size: 0x1000_0000n, flags: ['READ', 'WRITE'] };
    const files = { '/etc/jailhouse/sysconfig-base.cell': encodeConfig({ ...base, rootCell: { ...base.rootCell, memoryRegions: [...base.rootCell.memoryRegions, part] } }) };
    const set = exampleSet(o.arch);
    const layout = await layOut({ hv: set.units.get('jailhouse.hypervisor') as JailhouseHypervisor, set, read: machineFiles((p) => filesHost(files).readFile(p), async () => true).read });
    expect(layout.findings).toEqual([expect.objectContaining({ unit: 'jailhouse.hypervisor', field: ['linkPool'], code: 'UNIT_LINK', message: expect.stringMatching(/^the link pool 0x100000000\.\.0x160000000 overlaps region 1 of the root cell/) })]);
  });

  it('the base written inline in the Hypervisor unit (as `cell-config show` prints it): the same bytes, from no file at all', async () => {
    const o = cases[0]!;
    const description = describeConfigYaml(crtosBaseSystemConfig(o)).replace(/^kind: system\n/, '');
    const files = exampleFiles('crtos');
    const hvFile = 'units/crtos/jailhouse.yaml';
    files[hvFile] = files[hvFile]!.replace(/system: .*\n/, `system:\n${description.replace(/^/gm, '  ')}\n`);
    const r = build(files);
    expect(r.problems.filter((p) => p.severity !== 'warning')).toEqual([]);
    const descriptions = await describeUnits(r.set!, filesHost({}));
    expect(descriptions.get('jailhouse.hypervisor')!.problem).toBeUndefined();
    expect(Buffer.from(descriptions.get('jailhouse.hypervisor')!.inlineConfig!.bytes).equals(Buffer.from(encodeExampleConfigs(o).system))).toBe(true);
    expect(Buffer.from(descriptions.get('nuttx.cell')!.inlineConfig!.bytes).equals(Buffer.from(encodeExampleConfigs(o).nuttx))).toBe(true);
  });

  it('the links give the other units their values: the shadow driver its shmaddr, the network its interface', async () => {
    const o = cases[0]!;
    const shipped = encodeExampleConfigs(o);
    const descriptions = await describeUnits(exampleSet(o.arch), filesHost({ '/etc/jailhouse/sysconfig-base.cell': shipped.base }));
    expect(descriptions.get('shadow.driver')!.facts.parameters).toEqual({ shmaddr: '0x100001000' });
    expect(descriptions.get('crtos-link.network')!.facts.interface).toBe('enp0s13');
    expect(descriptions.get('shadow.link')!.facts.link).toMatchObject({ address: '0x100000000', rwAddress: '0x100001000', pci: '00:0e.0' });
    expect(descriptions.get('shadow.link')!.facts.linkDevice).toBe('/sys/bus/pci/devices/0000:00:0e.0');
  });
});
