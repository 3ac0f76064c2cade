import { describe, expect, it } from 'vitest';
import { formatCpuList, parseCpuList } from '../../src/lib/cpu-list.js';

describe('CPU lists', () => {
  it('parses ranges and singles into a sorted set, with sysfs newline and spaces', () => {
    expect(parseCpuList('1-3,5')).toEqual([1, 2, 3, 5]);
    expect(parseCpuList('5,1-2,2\n')).toEqual([1, 2, 5]);
    expect(parseCpuList(' 0 - 1 , 3 ')).toEqual([0, 1, 3]);
    expect(parseCpuList('\n')).toEqual([]);
  });

  it('refuses malformed text and reversed or out-of-range ranges', () => {
    for (const bad of ['a', '1-', '3-1', '1,,2', '-1', '70000']) expect(parseCpuList(bad), bad).toBeUndefined();
  });

  it('formats as the kernel prints %*pbl, and round-trips', () => {
    expect(formatCpuList([5, 1, 2, 3, 3])).toBe('1-3,5');
    expect(formatCpuList([])).toBe('');
    expect(formatCpuList([7])).toBe('7');
    const cpus = [0, 2, 3, 4, 9, 10];
    expect(parseCpuList(formatCpuList(cpus))).toEqual(cpus);
  });
});
