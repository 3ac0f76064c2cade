import { describe, expect, test } from 'vitest';
import { compilerTierChosen, leaveOutOptimizer, youngGenerationSized } from '../../src/daemon/heap.js';

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

describe('compilerTierChosen', () => {
  test('sees a tier chosen on the node command line or in NODE_OPTIONS, in either spelling', () => {
    expect(compilerTierChosen([], undefined)).toBe(false);
    expect(compilerTierChosen(['--expose-gc', '--max-semi-space-size=2'], '--enable-source-maps --optimize-for-size')).toBe(false);
    expect(compilerTierChosen(['--max-opt=3'], undefined)).toBe(true);
    expect(compilerTierChosen(['--max_opt', '2'], '')).toBe(true);
    expect(compilerTierChosen(['--turbofan'], undefined)).toBe(true);
    expect(compilerTierChosen(['--no-turbofan'], undefined)).toBe(true);
    expect(compilerTierChosen(['--lite-mode'], undefined)).toBe(true);
    expect(compilerTierChosen([], '--jitless')).toBe(true);
    expect(compilerTierChosen([], '--max-semi-space-size=2 --no-opt')).toBe(true);
  });

  test('an operator who chose a tier keeps it: nothing is set then', () => {
    expect(leaveOutOptimizer(['--max-opt=3'], {})).toBe(false);
    expect(leaveOutOptimizer([], { NODE_OPTIONS: '--jitless' })).toBe(false);
    expect(leaveOutOptimizer([], {})).toBe(true);
  });
});
