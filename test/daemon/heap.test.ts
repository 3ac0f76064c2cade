import { describe, expect, test } from 'vitest';
import { youngGenerationSized } from '../../src/daemon/heap.js';

describe('youngGenerationSized', () => {
  test('sees the semi-space flags on the node command line and in NODE_OPTIONS, in either spelling', () => {
    expect(youngGenerationSized([], undefined)).toBe(false);
    expect(youngGenerationSized(['--expose-gc', '--import', 'x.mjs'], '--enable-source-maps')).toBe(false);
    expect(youngGenerationSized(['--max-semi-space-size=2'], undefined)).toBe(true);
    expect(youngGenerationSized(['--max_semi_space_size', '4'], '')).toBe(true);
    expect(youngGenerationSized([], '--max-semi-space-size=2')).toBe(true);
    expect(youngGenerationSized([], '--enable-source-maps --semi-space-growth-factor=3')).toBe(true);
    expect(youngGenerationSized(['--max-old-space-size=64'], '--min-semi-space-size=1')).toBe(false);
  });
});
