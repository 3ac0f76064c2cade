/**
 * Descriptions: per unit, a digest per top-level field of its spec, with the contents of the files
 * that matter folded in (a cell's .cell bytes into `config`, its images' bytes into `load`, the
 * system configuration into `system`, a .ko into `path`). Computed when a unit set is loaded, so a
 * reconcile pass compares digests and reads no files. What each kind folds in, and the facts it
 * reads from its files, is its behaviour's `describe` (src/kinds/<kind>/).
 */
import type { Host } from '../host/host.js';
import type { Unit, UnitSet } from '../units/types.js';
import { locateInUnit } from '../units/locate.js';
import type { ValuePath } from '../units/yaml-source.js';
import type { Problem } from '../errors/problem.js';
import { behaviourOf, type DescribeContext } from '../kinds/behaviours.js';
import { digest } from './canonical.js';
import { machineFiles, type MachineFiles } from '../transaction/machine-files.js';
import type { UnitDescription, UnitFacts } from './types.js';
import { inTurns } from './turns.js';

/** The Host's files as the transaction check reads them: one read per file for check and description. */
export function hostFiles(host: Host): MachineFiles {
  return machineFiles(
    (path) => host.readFile(path),
    (path) => host.exists(path),
  );
}

/**
 * `sources` (unit file texts, as loadUnits returns them) lets problems of the unit files point at
 * their YAML node; without it they point at the unit.
 */
export async function describeUnits(
  set: UnitSet,
  host: Host,
  sources?: ReadonlyMap<string, string>,
  files: MachineFiles = hostFiles(host),
  recorded: (id: string) => UnitFacts | undefined = () => undefined,
): Promise<Map<string, UnitDescription>> {
  const memo = new Map<string, Promise<unknown>>();
  const ctx: DescribeContext = {
    set,
    file: (path) => files.read(path).then((f) => ('bytes' in f ? { hash: f.sha256, bytes: f.bytes } : { error: f.error })),
    locate: (unit: Unit, path: ValuePath) => (sources ? locateInUnit(unit, path, sources) : { file: unit.source.file, line: unit.source.line, column: unit.source.column }),
    shared: <T>(key: string, make: () => Promise<T>): Promise<T> => {
      let p = memo.get(key);
      if (!p) memo.set(key, (p = make()));
      return p as Promise<T>;
    },
    recorded,
  };
  const out = new Map<string, UnitDescription>();
  // One unit after another, the loop turning between slices (turns.ts): all at once, every unit's
  // decoding and digests ran in the one turn their file reads completed in.
  await inTurns(set.units.values(), async (u) => void out.set(u.id, await describeUnit(u, ctx)));
  return out;
}

/**
 * The problems of the unit files that describing the set revealed (see UnitDescription.unitFileError):
 * a set with any is to be refused like one with load errors.
 */
export function unitFileErrors(descriptions: ReadonlyMap<string, UnitDescription>): Problem[] {
  return [...descriptions.values()].flatMap((d) => (d.unitFileError ? [d.unitFileError] : []));
}

async function describeUnit(unit: Unit, ctx: DescribeContext): Promise<UnitDescription> {
  const kind = (await behaviourOf(unit.kind).describe?.(unit, ctx)) ?? {};
  const fieldValues: Record<string, unknown> = { ...(unit.spec as Record<string, unknown>), ...kind.fields };
  delete fieldValues.kind;
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(fieldValues)) if (v !== undefined) fields[k] = digest(v);
  return {
    id: unit.id,
    kind: unit.kind,
    fields,
    digest: digest(fields),
    facts: kind.facts ?? {},
    ...(kind.problem ? { problem: kind.problem } : {}),
    ...(kind.problem && kind.unitFileError ? { unitFileError: kind.problem } : {}),
    ...(kind.inlineConfig ? { inlineConfig: kind.inlineConfig } : {}),
    ...(kind.heldWith ? { heldWith: kind.heldWith } : {}),
  };
}
