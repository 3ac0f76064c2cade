import { describe, expect, it } from 'vitest';
import { codeUnitOrder } from '../../src/lib/code-unit-order.js';

describe('codeUnitOrder', () => {
  it('orders as a comparator-less sort does, whatever the locale', () => {
    const ids = ['c2.cell', 'b.loader', 'C1.cell', 'c10.cell', 'a-b.driver', 'a_b.driver', 'a.driver', 'é.cell'];
    expect([...ids].sort(codeUnitOrder)).toEqual([...ids].sort());
    expect([...ids].sort(codeUnitOrder)).toEqual(['C1.cell', 'a-b.driver', 'a.driver', 'a_b.driver', 'b.loader', 'c10.cell', 'c2.cell', 'é.cell']);
  });

  it('is 0 only for equal strings', () => {
    expect(codeUnitOrder('x', 'x')).toBe(0);
    expect(codeUnitOrder('x', 'y')).toBe(-1);
    expect(codeUnitOrder('y', 'x')).toBe(1);
  });
});
