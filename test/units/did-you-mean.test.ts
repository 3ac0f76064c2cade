import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { closest, didYouMean, editDistance } from '../../src/units/did-you-mean.js';

describe('did you mean', () => {
  it('counts edits, a swap of neighbours as one', () => {
    expect(editDistance('onFailur', 'onFailure')).toBe(1);
    expect(editDistance('restrat', 'restart')).toBe(1);
    expect(editDistance('abc', 'xyz')).toBe(3);
    expect(editDistance('', 'ab')).toBe(2);
  });

  it('suggests only plausible typos, ignoring case', () => {
    expect(didYouMean('onFailur', ['onFailure', 'hypervisor'])).toBe("did you mean 'onFailure'?");
    expect(closest('cell', ['Cell', 'Image'])).toBe('Cell');
    expect(closest('banana', ['Cell', 'Image'])).toBeUndefined();
  });

  it('is a metric: zero only for equal words, symmetric (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (a, b) => {
        expect(editDistance(a, b) === 0).toBe(a === b);
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});
