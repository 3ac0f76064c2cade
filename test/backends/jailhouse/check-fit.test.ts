/**
 * The cRTOS example's configurations against machine facts: CPUs the machine has, the hypervisor's
 * memory reserved from Linux inside its RAM, the cell's memory inside its RAM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadUnits } from '../../../src/units/load.js';
import { checkOnMachine } from '../../../src/conditions/check-on-machine.js';
import { machineFilesUnder } from '../../../src/transaction/check.js';
import type { MachineFacts } from '../../../src/facts/types.js';
import type { UnitSet } from '../../../src/units/types.js';
import { destroySimMachine, type SimMachine } from '../../../src/sim/index.js';
import { tempMachine } from '../../sim/helpers.js';
import { repoRoot } from '../../units/helpers.js';

/** The simulated cRTOS box: 4 CPUs, 8 GiB from 0 with the hypervisor's 0x3a000000-0x3fffffff reserved. */
const FITS: MachineFacts = {
  crtosFactsVersion: 1,
  hostname: 'crtos-sim',
  machineId: '',
  architecture: 'x86-64',
  cpus: { count: 4, online: '0-3' },
  memory: { total: 8489271296, systemRam: ['0x00000000-0x39ffffff', '0x40000000-0x1ffffffff'] },
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

  it("refuses hypervisor memory Linux uses as System RAM, and a cell's memory outside the RAM", async () => {
    expect(await misfits({ ...FITS, memory: { total: 4 * 1024 ** 3, systemRam: ['0x00000000-0xffffffff'] } })).toEqual([
      ['UNIT_MACHINE_MISFIT', 'jailhouse.hypervisor', 'the hypervisor memory 0x3a000000-0x3fffffff is System RAM Linux uses on this machine (0x0-0xffffffff), not reserved for Jailhouse'],
      ['UNIT_MACHINE_MISFIT', 'nuttx.cell', expect.stringMatching(/^the cell's memory 0x100000000-0x100000fff, .* lies outside the RAM of this machine \(0x0-0xffffffff\)$/)],
    ]);
  });

  it('checks no memory when the System RAM ranges were not readable', async () => {
    expect(await misfits({ ...FITS, memory: { total: 1024 ** 3 } })).toEqual([]);
  });
});
