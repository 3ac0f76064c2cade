/**
 * A kind is one folder: nothing outside src/kinds/<kind>/ may test a unit's kind against a kind's
 * name. Such a test is how a kind leaks into generic code (the next kind then needs an edit there
 * too); generic code asks the kind's definition, view or behaviour through the registry instead.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../units/helpers.js';
import { kindNames } from '../../src/kinds/index.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The comparisons of a literal kind name this text makes, as `line: text`. */
export function kindLiteralComparisons(text: string, kinds: readonly string[]): string[] {
  const name = `['"\`](?:${kinds.join('|')})['"\`]`;
  const patterns = [
    new RegExp(`[!=]==?\\s*${name}`), // kind === 'Cell'
    new RegExp(`${name}\\s*[!=]==?`), // 'Cell' === kind
    new RegExp(`\\bcase\\s+${name}\\s*:`), // case 'Cell':
    new RegExp(`\\[\\s*${name}(?:\\s*,\\s*${name})*\\s*\\]\\s*\\.\\s*includes\\(`), // ['Cell', 'Image'].includes(kind)
    new RegExp(`\\.has\\(\\s*${name}\\s*\\)`), // new Set(['Cell']).has(kind) spelled inline
  ];
  return text
    .split('\n')
    .map((line, i) => [i + 1, line] as const)
    .filter(([, line]) => !/^\s*(\*|\/\/|\/\*)/.test(line) && patterns.some((p) => p.test(line)))
    .map(([n, line]) => `${n}: ${line.trim()}`);
}

/** src/kinds/<kind>/… : the folder a file belongs to, when it is a kind's. */
function kindFolderOf(file: string): string | undefined {
  return /^src\/kinds\/([^/]+)\//.exec(file)?.[1];
}

describe('kind names outside kind folders', () => {
  const kinds = kindNames();

  it('finds the comparisons it looks for (so the check itself can fail)', () => {
    expect(kindLiteralComparisons(`if (unit.kind === 'Cell') x();`, kinds)).toHaveLength(1);
    expect(kindLiteralComparisons(`if ('Loader' !== u.kind) x();`, kinds)).toHaveLength(1);
    expect(kindLiteralComparisons(`  case "Image":`, kinds)).toHaveLength(1);
    expect(kindLiteralComparisons(`if (['Cell', 'Hypervisor'].includes(kind)) x();`, kinds)).toHaveLength(1);
    expect(kindLiteralComparisons(`const k = definitionOf(unit.kind); // not 'Cell' === here`, kinds)).toHaveLength(1);
    expect(kindLiteralComparisons(`registerBehaviour('Cell', cellBehaviour);\n// kind === 'Cell' in a comment`, kinds)).toEqual([]);
  });

  it('no file of src/ outside src/kinds/<kind>/ compares a kind with a literal kind name', () => {
    const offences: string[] = [];
    for (const abs of sourceFiles(join(repoRoot, 'src'))) {
      const file = relative(repoRoot, abs).split('\\').join('/');
      if (kindFolderOf(file) !== undefined) continue;
      for (const hit of kindLiteralComparisons(readFileSync(abs, 'utf8'), kinds)) offences.push(`${file}:${hit}`);
    }
    expect(offences, 'ask the kind (its definition, view or behaviour) through the registry instead').toEqual([]);
  });
});
