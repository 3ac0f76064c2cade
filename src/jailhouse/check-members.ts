/**
 * What the checks of check.ts and check-ivshmem.ts share: the cells of a configuration set with
 * where they came from, address ranges, byte offsets of a cell's elements in its file, and the
 * list the findings go to.
 */
import { problem, type Problem } from '../errors/problem.js';
import type { ProblemCode } from '../errors/codes.js';
import { formatHex } from './values.js';
import type { CellConfig, MemoryRegion } from './types.js';

/** A cell of the set with where it came from. */
export interface Member {
  file: string;
  cell: CellConfig;
  isRoot: boolean;
  /** Offset of the cell header in its file (the root cell follows the system header). */
  base: number;
}

/** Half-open byte range; size 0 never overlaps anything (as in pyjailhouse). */
export interface Range {
  start: bigint;
  size: bigint;
}

export const overlaps = (a: Range, b: Range): boolean => a.size > 0n && b.size > 0n && a.start < b.start + b.size && b.start < a.start + a.size;
export const phys = (m: MemoryRegion): Range => ({ start: m.physStart, size: m.size });
export const virt = (m: MemoryRegion): Range => ({ start: m.virtStart, size: m.size });
export const has = (m: MemoryRegion, flag: string): boolean => m.flags.includes(flag);
/** The comm region's phys_start is ignored by the hypervisor, so it takes part in no phys check. */
export const isComm = (m: MemoryRegion): boolean => has(m, 'COMM_REGION');

export const describeRange = (r: Range): string => `${formatHex(r.start)}..${formatHex(r.start + r.size)}`;
export const cellLabel = (m: Member): string => (m.isRoot ? `root cell '${m.cell.name}'` : `cell '${m.cell.name}'`);

export function regionOffset(m: Member, index: number): number {
  return m.base + 132 + m.cell.cpuSetSize + 32 * index;
}

export function pciOffset(m: Member, index: number): number {
  const c = m.cell;
  return m.base + 132 + c.cpuSetSize + 32 * c.memoryRegions.length + 12 * c.cacheRegions.length + 32 * c.irqchips.length + 4 * c.pioRegions.length + 56 * index;
}

export class Findings {
  readonly list: Problem[] = [];
  add(code: ProblemCode, m: Member | { file: string }, message: string, extra: { offset?: number; hint?: string; severity?: 'warning' | undefined } = {}): void {
    this.list.push(problem(code, message, { file: m.file, ...extra }));
  }
  region(code: ProblemCode, m: Member, index: number, message: string, hint?: string, severity?: 'warning'): void {
    this.add(code, m, `${cellLabel(m)}, region ${index}: ${message}`, { offset: regionOffset(m, index), ...(hint === undefined ? {} : { hint }), ...(severity ? { severity } : {}) });
  }
}

