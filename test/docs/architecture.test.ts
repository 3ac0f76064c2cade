/**
 * docs/architecture.md names the files a newcomer reads and the recipes they follow; when a named
 * file moves or goes, the document misleads. Every `src/…`, `test/…` and `docs/…` path it quotes
 * must exist (a folder name ending in `/`, a file otherwise), and both recipes are there.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../units/helpers.js';

const text = readFileSync(join(repoRoot, 'docs/architecture.md'), 'utf8');

/** Quoted paths of the repository, placeholders (NAME) left out. */
export function quotedPaths(markdown: string): string[] {
  return [...markdown.matchAll(/`((?:src|test|docs)\/[^`\s]*)`/g)].map((m) => m[1]!).filter((p) => !/NAME/.test(p));
}

describe('docs/architecture.md', () => {
  it('quotes paths (so the check below can fail)', () => {
    expect(quotedPaths('see `src/a.ts` and `test/x/` but not `src/kinds/NAME/`')).toEqual(['src/a.ts', 'test/x/']);
    expect(quotedPaths(text).length).toBeGreaterThan(20);
  });

  it('names only files and folders that exist', () => {
    const missing = quotedPaths(text).filter((p) => {
      const abs = join(repoRoot, p);
      if (!existsSync(abs)) return true;
      return p.endsWith('/') !== statSync(abs).isDirectory();
    });
    expect(missing).toEqual([]);
  });

  it('has both recipes, each pointing at the test that follows it', () => {
    expect(text).toMatch(/### Recipe: add a kind[\s\S]*`test\/kinds\/fixture-kind\.test\.ts`/);
    expect(text).toMatch(/### Recipe: add a backend[\s\S]*`test\/backends\/fixture-backend\.test\.ts`/);
  });

  it('gives every folder of src/ a row in "What lives where"', () => {
    const folders = readdirSync(join(repoRoot, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `src/${e.name}/`);
    const rows = new Set([...text.matchAll(/^\| `(src\/[^`]+\/)` \|/gm)].map((m) => m[1]!));
    expect(folders.length).toBeGreaterThan(10);
    expect(folders.filter((f) => !rows.has(f))).toEqual([]);
  });
});
