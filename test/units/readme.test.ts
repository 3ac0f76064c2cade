import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unitCodes } from '../../src/errors/codes/units.js';
import { KINDS, KIND_NAMES } from '../../src/units/kinds/index.js';
import { fieldsAt } from '../../src/units/schema-walk.js';
import { repoRoot } from './helpers.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Unit format'));

describe('README "Unit format"', () => {
  it('keeps the two commands at the top', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm ci && npm test');
    expect(readme.indexOf('npm ci && npm test')).toBeLessThan(readme.indexOf('## Unit format'));
  });

  it('documents every field of every kind', () => {
    for (const kind of KIND_NAMES) {
      const kindSection = section.slice(section.indexOf(`### ${kind}`));
      expect(kindSection.length, kind).toBeLessThan(section.length);
      for (const field of fieldsAt(KINDS[kind].schema, [])) expect(section, `${kind}.${field}`).toContain(`\`${field}\``);
    }
  });

  it('lists every UNIT_ problem code', () => {
    for (const code of Object.keys(unitCodes)) expect(section).toContain(`\`${code}\``);
  });
});
