/**
 * Configurations against machine facts: CPUs the machine has, the hypervisor's memory kept from
 * Linux inside its physical RAM, the cells' memory inside that RAM. The cRTOS example against
 * facts written here; the fleet's arm64 board as the reference setup (upstream's QEMU arm64
 * layout, mem=768M) through `crtosctl validate --root`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadUnits } from '../../../src/units/load.js';
import { checkOnMachine } from '../../../src/conditions/check-on-machine.js';
import { checkFleet } from '../../../src/conditions/fleet.js';
import { machineFilesUnder } from '../../../src/transaction/check.js';
import type { MachineFacts } from '../../../src/facts/types.js';
import type { UnitSet } from '../../../src/units/types.js';
import { destroySimMachine, type MachineDescription, type SimMachine } from '../../../src/sim/index.js';
import { FLEET_ARM64_DESCRIPTION } from '../../../src/sim/fleet-examples.js';
import { collectFacts } from '../../../src/facts/collect.js';
import { createLinuxHost } from '../../../src/host/index.js';
import { tempMachine } from '../../sim/helpers.js';
import { repoRoot } from '../../units/helpers.js';
import { ctlInProcess } from '../../cli/helpers/in-process.js';

const MIB = 1024 ** 2;

/** The simulated cRTOS box: 4 CPUs, 8 GiB from 0 with the hypervisor's 0x3a000000-0x3fffffff reserved (memmap=). */
const FITS: MachineFacts = {
  crtosFactsVersion: 1,
  hostname: 'crtos-sim',
  machineId: '',
  architecture: 'x86-64',
  cpus: { count: 4, online: '0-3' },
  memory: { total: 8489271296, systemRam: ['0x00000000-0x39ffffff', '0x40000000-0x1ffffffff'], physicalRam: ['0x00000000-0x1ffffffff'] },
  kernel: { release: '5.4.0-crtos-sim', commandLine: '' },
  board: { vendor: 'Supermicro', product: 'C7X99-OCE-F', id: 'supermicro-c7x99-oce-f' },
  jailhouse: { present: true, enabled: false },
  remoteproc: [],
};

let m: SimMachine;
let set: UnitSet;
let sources: ReadonlyMap<string, string>;
beforeAll(async () => {
  m = await tempMachine();
  const loaded = await loadUnits({ directories: [join(repoRoot, 'units/crtos')] });
  set = loaded.set!;
  sources = loaded.sources;
});
afterAll(() => destroySimMachine(m.dir));

const misfits = async (facts: MachineFacts) =>
  (await checkOnMachine({ set, sources, machine: machineFilesUnder(m.dir), facts })).problems.map((p) => [p.code, p.unit, p.message]);

describe('configurations against the machine they are meant for', () => {
  it('finds nothing on the machine they were made for', async () => {
    expect(await misfits(FITS)).toEqual([]);
  });

  it('names CPUs the machine does not have, in the system and the cell configuration', async () => {
    expect(await misfits({ ...FITS, cpus: { count: 2, online: '0-1' } })).toEqual([
      ['UNIT_MACHINE_MISFIT', 'jailhouse.hypervisor', 'the system configuration gives the root cell CPU 2-3, which this machine does not have'],
      ['UNIT_MACHINE_MISFIT', 'nuttx.cell', 'the cell configuration claims CPU 3, which this machine does not have'],
    ]);
  });

  it("refuses hypervisor memory Linux uses as System RAM, and a cell's memory outside the physical RAM", async () => {
    const ram = ['0x00000000-0xffffffff'];
    expect(await misfits({ ...FITS, memory: { total: 4 * 1024 ** 3, systemRam: ram, physicalRam: ram } })).toEqual([
      ['UNIT_MACHINE_MISFIT', 'jailhouse.hypervisor', 'the hypervisor memory 0x3a000000-0x3fffffff is System RAM Linux uses on this machine (0x0-0xffffffff), not kept from Linux for Jailhouse'],
      ['UNIT_MACHINE_MISFIT', 'nuttx.cell', expect.stringMatching(/^the cell's memory 0x100000000-0x100000fff, .* lies outside the physical RAM of this machine \(0x0-0xffffffff\)$/)],
    ]);
  });

  it('takes touching physical RAM ranges as one, and refuses hypervisor memory beyond them', async () => {
    const split = { ...FITS.memory, physicalRam: ['0x00000000-0x9fbff', '0x00100000-0xffffffff', '0x100000000-0x1ffffffff'] };
    expect(await misfits({ ...FITS, memory: split })).toEqual([]);
    const small = { ...FITS.memory, systemRam: ['0x00000000-0x1fffffff'], physicalRam: ['0x00000000-0x9fbff', '0x00100000-0x2fffffff'] };
    expect(await misfits({ ...FITS, memory: small })).toEqual([
      ['UNIT_MACHINE_MISFIT', 'jailhouse.hypervisor', 'the hypervisor memory 0x3a000000-0x3fffffff lies outside the physical RAM of this machine (0x0-0x9fbff, 0x100000-0x2fffffff)'],
      ['UNIT_MACHINE_MISFIT', 'nuttx.cell', expect.stringMatching(/^the cell's memory 0x100000000-0x100000fff, .* lies outside the physical RAM of this machine/)],
    ]);
  });

  it('judges each machine of a fleet by its own physical RAM, where the RAM Linux uses is the same', async () => {
    const small = { ...FITS, memory: { ...FITS.memory, physicalRam: ['0x00000000-0x3fffffff'] } };
    const results = await checkFleet(set, sources, [{ file: 'fits.yaml', facts: FITS }, { file: 'small.yaml', facts: small }], machineFilesUnder(m.dir));
    expect(results.map((r) => r.problems.map((p) => p.unit))).toEqual([[], ['nuttx.cell']]);
  });

  it('says nothing is outside the RAM when physical RAM is unknown, though it still refuses hypervisor memory Linux uses', async () => {
    // A facts file from before physical RAM was collected, of a machine booted with mem=1G: the
    // cell's memory above 4 GiB is past what Linux uses, which says nothing about the RAM there.
    expect(await misfits({ ...FITS, memory: { total: 1024 ** 3, systemRam: ['0x00000000-0x39ffffff'] } })).toEqual([]);
    expect(await misfits({ ...FITS, memory: { total: 4 * 1024 ** 3, systemRam: ['0x00000000-0xffffffff'] } })).toEqual([
      ['UNIT_MACHINE_MISFIT', 'jailhouse.hypervisor', expect.stringContaining('is System RAM Linux uses on this machine (0x0-0xffffffff)')],
    ]);
    expect(await misfits({ ...FITS, memory: { total: 1024 ** 3 } })).toEqual([]);
  });
});

describe("the reference arm64 setup: the hypervisor's memory kept from Linux with mem=", () => {
  /** The fleet's arm64 board with 1 GiB at 0x40000000 booted with mem=768M (upstream's QEMU arm64 setup). */
  const board = (memoryBytes: number, mem: string): Partial<MachineDescription> => ({
    ...FLEET_ARM64_DESCRIPTION,
    identity: { ...FLEET_ARM64_DESCRIPTION.identity, memoryBytes, kernelCommandLine: `console=ttyAMA0 root=/dev/vda2 rw rootwait mem=${mem}` },
  });
  const validate = (root: string) => ctlInProcess('validate', '--units', join(repoRoot, 'units/fleet'), '--root', root);

  it("accepts the hypervisor at 0x7fc00000, above Linux's 768 MiB, inside the machine's 1 GiB", async () => {
    const m = await tempMachine(board(1024 * MIB, '768M'));
    try {
      expect((await collectFacts(createLinuxHost({ root: m.dir }))).memory).toEqual({ total: 768 * MIB, systemRam: ['0x40000000-0x6fffffff'], physicalRam: ['0x40000000-0x7fffffff'] });
      const r = await validate(m.dir);
      expect(r.stdout + r.stderr).not.toContain('UNIT_MACHINE_MISFIT');
      expect(r.code).toBe(0);
    } finally {
      await destroySimMachine(m.dir);
    }
  });

  it('refuses the hypervisor and cells on a board whose 512 MiB end below them', async () => {
    const m = await tempMachine(board(512 * MIB, '384M'));
    try {
      const r = await validate(m.dir);
      expect(r.code).toBe(1);
      const misfits = r.stderr.split('\n').filter((l) => l.includes('UNIT_MACHINE_MISFIT'));
      expect(misfits).toEqual([
        expect.stringContaining('the hypervisor memory 0x7fc00000-0x7fffffff lies outside the physical RAM of this machine (0x40000000-0x5fffffff) (jailhouse.hypervisor)'),
        expect.stringContaining("the cell's memory 0x7f000000-0x7f3fffff lies outside the physical RAM of this machine (0x40000000-0x5fffffff) (freertos.cell)"),
        expect.stringContaining("the cell's memory 0x7f400000-0x7f7fffff lies outside the physical RAM of this machine (0x40000000-0x5fffffff) (zephyr.cell)"),
      ]);
    } finally {
      await destroySimMachine(m.dir);
    }
  });
});
