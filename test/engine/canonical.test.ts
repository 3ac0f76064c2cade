import { describe, expect, test } from 'vitest';
import { canonicalJson, digest } from '../../src/engine/canonical.js';

describe('canonical digests', () => {
  test('independent of key order, distinct for bigint and number', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
    expect(digest({ address: 16n })).not.toBe(digest({ address: 16 }));
    expect(digest({ a: undefined, b: 1 })).toBe(digest({ b: 1 }));
  });
});
