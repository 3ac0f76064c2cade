/**
 * Which field of a cell's description a byte offset of its encoding falls in. The checks report
 * byte offsets (as upstream's `jailhouse config check` reasons in bytes); a unit carrying the
 * configuration inline wants the field, to point at its YAML node. Derived from the layouts, so
 * it follows the structs as encode.ts writes them.
 */
import { CACHE, IRQCHIP, MEMORY, PCI_DEVICE, PIO, cellDescLayout } from './layout.js';
import type { CellConfig } from './types.js';

/** The header fields whose description field has the same meaning (the rest point at the cell). */
const HEADER_FIELDS: Record<string, string> = { name: 'name', architecture: 'arch', revision: 'revision' };

/** The path in the description (`['memoryRegions', 2]`, `['cpus']`; `[]` for the cell as a whole). */
export function cellFieldAt(cell: CellConfig, offset: number): (string | number)[] {
  const header = cellDescLayout(cell.revision);
  if (offset < header.size) {
    const field = header.fields.find((f) => offset >= f.offset && offset < f.offset + f.size);
    const name = field && HEADER_FIELDS[field.name];
    return name ? [name] : [];
  }
  const sections: [string, number, number][] = [
    ['cpus', cell.cpuSetSize, 1],
    ['memoryRegions', cell.memoryRegions.length, MEMORY.size],
    ['cacheRegions', cell.cacheRegions.length, CACHE.size],
    ['irqchips', cell.irqchips.length, IRQCHIP.size],
    ['pioRegions', cell.pioRegions.length, PIO.size],
    ['pciDevices', cell.pciDevices.length, PCI_DEVICE.size],
  ];
  let start = header.size;
  for (const [field, count, entry] of sections) {
    const size = count * entry;
    // A check of the CPU set points at its start even when the set is empty.
    if (field === 'cpus' && offset === start) return ['cpus'];
    if (offset < start + size) return field === 'cpus' ? ['cpus'] : [field, Math.floor((offset - start) / entry)];
    start += size;
  }
  return [];
}
