import { describe, expect, it } from 'vitest';
import { EXCERPT_LENGTH, excerpt } from '../../src/units/excerpt.js';

describe('excerpt', () => {
  it('quotes a value whole up to EXCERPT_LENGTH characters, and only its start beyond', () => {
    expect(excerpt('10 parsecs')).toBe('10 parsecs');
    expect(excerpt('x'.repeat(EXCERPT_LENGTH))).toBe('x'.repeat(EXCERPT_LENGTH));
    expect(excerpt('x'.repeat(EXCERPT_LENGTH + 1))).toBe(`${'x'.repeat(EXCERPT_LENGTH)}… (${EXCERPT_LENGTH + 1} characters)`);
  });
});
