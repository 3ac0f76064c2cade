import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unitCodes } from '../../src/errors/codes/units.js';
import { definitionOf, kindNames } from '../../src/kinds/index.js';
import { fieldsAt } from '../../src/units/schema-walk.js';
import { repoRoot } from './helpers.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** `text` with the lines inside fenced code blocks blanked (same length): their `# comments` are no headings. */
function outsideCode(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, (block) => block.replace(/[^\n]/g, ' '));
}

/** The text under a heading, up to the next heading of the same or a higher level; '' when there is no such heading. */
function under(text: string, heading: string): string {
  const masked = outsideCode(text);
  const start = masked.indexOf(`\n${heading}\n`);
  if (start < 0) return '';
  const level = heading.split(' ')[0]!;
  const from = start + heading.length + 2;
  const next = masked.slice(from).search(new RegExp(`^#{1,${level.length}} `, 'm'));
  return next < 0 ? text.slice(from) : text.slice(from, from + next);
}

const section = under(readme, '## Unit format');
const common = under(section, '### Fields common to every kind');

describe('README "Unit format"', () => {
  it('has the sections these checks read', () => {
    expect(section.length).toBeGreaterThan(0);
    expect(common.length).toBeGreaterThan(0);
    expect(under(readme, '## No such heading')).toBe('');
  });

  it('keeps the two commands at the top', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm ci && npm test');
    expect(readme.indexOf('npm ci && npm test')).toBeLessThan(readme.indexOf('## Unit format'));
  });

  it('documents every field of every kind', () => {
    for (const kind of kindNames()) {
      const kindSection = under(section, `### ${kind}`);
      expect(kindSection, `a "### ${kind}" section`).not.toBe('');
      // A field is documented in its kind's section, or among the fields common to every kind.
      for (const field of fieldsAt(definitionOf(kind).schema, [])) expect(`${kindSection}\n${common}`, `${kind}.${field}`).toContain(`\`${field}\``);
    }
  });

  it('lists every UNIT_ problem code, with the meaning the code registry gives it', () => {
    for (const [code, { summary }] of Object.entries(unitCodes)) expect(section).toContain(`\n| \`${code}\` | ${summary} |\n`);
  });
});
