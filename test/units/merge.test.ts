import { describe, expect, it } from 'vitest';
import { mergeValues, originOf } from '../../src/units/merge.js';
import type { SourceDocument } from '../../src/units/yaml-source.js';

const layer = (file: string, value: unknown): SourceDocument => ({ file, index: 0, value, line: 1, column: 1 });

describe('mergeValues', () => {
  it('merges mappings recursively, replaces lists and scalars, removes on null', () => {
    const base = { a: 1, m: { x: 1, y: 2 }, l: [1, 2], gone: 'x' };
    expect(mergeValues(base, { m: { y: 3, z: 4 }, l: [9], gone: null })).toEqual({ a: 1, m: { x: 1, y: 3, z: 4 }, l: [9] });
    expect(base).toEqual({ a: 1, m: { x: 1, y: 2 }, l: [1, 2], gone: 'x' });
  });
});

describe('originOf', () => {
  const base = layer('base', { a: 1, m: { x: 1, y: 2 }, l: [{ k: 1 }, { k: 2 }] });
  const drop = layer('drop', { m: { y: 3 }, l: [{ k: 9 }] });
  it('finds the layer that set a value', () => {
    expect(originOf([base, drop], ['m', 'y']).file).toBe('drop');
    expect(originOf([base, drop], ['m', 'x']).file).toBe('base');
    expect(originOf([base, drop], ['a']).file).toBe('base');
  });
  it('gives everything under a replaced list to the layer that replaced it', () => {
    expect(originOf([base, drop], ['l', 0, 'k']).file).toBe('drop');
    expect(originOf([base, drop], ['l', 1, 'k']).file).toBe('drop');
  });
  it('gives a missing field to the layer with its longest prefix', () => {
    expect(originOf([base, drop], ['m', 'nope']).file).toBe('drop');
    expect(originOf([base, drop], ['nope']).file).toBe('base');
  });
});
