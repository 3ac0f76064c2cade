import { describe, expect, it } from 'vitest';
import { isUnitFileName } from '../../src/units/discover.js';

// Directory precedence, hiding and drop-in discovery are exercised through loadUnits in load.test.ts.
describe('isUnitFileName', () => {
  it.each([
    ['a.yaml', true],
    ['a.yml', true],
    ['.a.yaml', false],
    ['a.yaml~', false],
    ['.a.yaml.swp', false],
    ['a.yaml.swp', false],
    ['a.yaml.dpkg-old', false],
    ['#a.yaml#', false],
    ['a.json', false],
  ])('%s → %s', (name, expected) => {
    expect(isUnitFileName(name)).toBe(expected);
  });
});
