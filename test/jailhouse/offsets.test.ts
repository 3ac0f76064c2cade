/** cellFieldAt: byte offsets of an encoded cell back to the field of its description. */
import { describe, expect, it } from 'vitest';
import { cellFieldAt, type CellConfig } from '../../src/jailhouse/index.js';
import { nuttxCellConfig } from '../../src/sim/index.js';

describe('cellFieldAt', () => {
  const rev14: CellConfig = { ...nuttxCellConfig({ revision: 12, arch: 'x86', cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } }), revision: 14 };
  const rev12: CellConfig = { ...rev14, revision: 12 };

  it('maps header fields that the description names, and the rest of the header to the cell', () => {
    expect(cellFieldAt(rev14, 5)).toEqual(['arch']);
    expect(cellFieldAt(rev12, 5)).toEqual([]); // still the signature in revisions 12 and 13
    expect(cellFieldAt(rev14, 6)).toEqual(['revision']);
    expect(cellFieldAt(rev14, 8)).toEqual(['name']);
    expect(cellFieldAt(rev14, 39)).toEqual(['name']);
    expect(cellFieldAt(rev14, 44)).toEqual([]);
  });

  it('maps the arrays after the header to their entry', () => {
    const cpus = 132;
    const memory = cpus + rev14.cpuSetSize;
    expect(cellFieldAt(rev14, cpus)).toEqual(['cpus']);
    expect(cellFieldAt(rev14, memory)).toEqual(['memoryRegions', 0]);
    expect(cellFieldAt(rev14, memory + 32 * 2 + 31)).toEqual(['memoryRegions', 2]);
    const pci = memory + 32 * rev14.memoryRegions.length + 12 * rev14.cacheRegions.length + 32 * rev14.irqchips.length + 4 * rev14.pioRegions.length;
    expect(cellFieldAt(rev14, pci + 56)).toEqual(['pciDevices', 1]);
    expect(cellFieldAt(rev14, pci + 56 * rev14.pciDevices.length)).toEqual([]);
  });
});
