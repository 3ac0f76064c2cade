/** Loads the YAML fixtures of test/fixtures/jailhouse and builds them in every revision. */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseConfigDescription, type ConfigFile, type Revision } from '../../src/jailhouse/index.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/jailhouse/', import.meta.url));
export const FIXTURE_NAMES = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.yaml')).sort();
export const REVISIONS: Revision[] = [12, 13, 14];

export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURE_DIR, name), 'utf8');
}

export function loadFixture(name: string): ConfigFile {
  const r = parseConfigDescription(parse(fixtureText(name)));
  if (!r.ok) throw new Error(`${name}: ${r.problems.map((p) => p.message).join('; ')}`);
  return r.config;
}

/** The same configuration as another revision (the layout changes, the content does not). */
export function asRevision<T extends ConfigFile>(config: T, revision: Revision): T {
  const copy = structuredClone(config);
  copy.revision = revision;
  if (copy.kind === 'system') copy.rootCell.revision = revision;
  return copy;
}
