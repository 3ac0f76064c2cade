/** Test helpers: unit sets from in-memory files, and the example deployments' texts. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildUnitSet, type BuildOptions, type BuildResult, type UnitSourceFile } from '../../src/units/build.js';
import type { Problem } from '../../src/errors/problem.js';
import type { SpecByKind, Unit } from '../../src/units/types.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** `{ 'a.yaml': text, 'nuttx.cell.d/10-x.yaml': text }` → files, drop-ins recognised by their directory. */
export function sourceFiles(files: Record<string, string>): UnitSourceFile[] {
  return Object.entries(files).map(([file, text]) => {
    const dir = basename(dirname(file));
    return dir.endsWith('.d') ? { file, text, dropInFor: dir.slice(0, -2) } : { file, text };
  });
}

export function build(files: Record<string, string>, opts?: BuildOptions): BuildResult {
  return buildUnitSet(sourceFiles(files), opts);
}

export function errorsOf(result: BuildResult): Problem[] {
  return result.problems.filter((p) => (p.severity ?? 'error') === 'error');
}

/** The example deployments under units/ (crtos-inline is one file over crtos-handwritten). */
export const EXAMPLES = ['crtos', 'crtos-handwritten', 'crtos-inline', 'rtmux'] as const;

/** The example deployment's files, by name, as text. */
export function exampleFiles(name: (typeof EXAMPLES)[number]): Record<string, string> {
  const dir = join(repoRoot, 'units', name);
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => [`units/${name}/${f}`, readFileSync(join(dir, f), 'utf8')]),
  );
}

/** Every file of every example deployment, by name, as text. */
export function allExampleFiles(): Record<string, string> {
  return Object.assign({}, ...EXAMPLES.map(exampleFiles)) as Record<string, string>;
}

/** A minimal valid jailhouse deployment to vary in tests. */
export const BASE = `kind: Driver
name: jailhouse
module: jailhouse
---
kind: Hypervisor
name: jailhouse
type: jailhouse
driver: jailhouse
system: /etc/jailhouse/sysconfig.cell
---
kind: Image
name: nuttx
path: /opt/crtos/nuttx.bin
---
kind: Cell
name: nuttx
hypervisor: jailhouse
config: /etc/jailhouse/nuttx.cell
load:
  - image: nuttx
    address: 0x1000
`;

/** A built-in unit's spec, typed by its kind; throws when the unit is of another kind. */
export function specOf<K extends keyof SpecByKind>(unit: Unit, kind: K): SpecByKind[K] {
  if (unit.kind !== kind) throw new Error(`${unit.id} is a ${unit.kind}, not a ${kind}`);
  return unit.spec as unknown as SpecByKind[K];
}
