/**
 * Descriptions: per unit, a digest per top-level field of its spec, with the contents of the files
 * that matter folded in (a cell's .cell bytes into `config`, its images' bytes into `load`, the
 * system configuration into `system`, a .ko into `path`). Computed when a unit set is loaded, so a
 * reconcile pass compares digests and reads no files.
 *
 * A cell whose configuration is written inline is encoded here, with the revision and
 * architecture of its hypervisor's system configuration, and `config` is the digest of those
 * bytes: an edit that changes no byte (keys reordered, `4K` for `0x1000`) changes nothing, any
 * other re-creates the cell.
 */
import type { Host } from '../host/host.js';
import type { Unit, UnitOf, UnitSet } from '../units/types.js';
import { unitId } from '../kinds/spec-common.js';
import { driverModuleName } from '../kinds/driver/spec.js';
import { inlineConfigOf } from '../kinds/cell/spec.js';
import { locateInUnit } from '../units/locate.js';
import type { ValuePath } from '../units/yaml-source.js';
import { decodeConfig } from '../jailhouse/decode.js';
import { encodeConfig } from '../jailhouse/encode.js';
import { completeInlineCellConfig, inlineSystemMismatches, type InlineCellConfig } from '../jailhouse/description.js';
import type { Arch, Revision } from '../jailhouse/types.js';
import { problem, ProblemError, type Problem } from '../errors/problem.js';
import { digest, sha256 } from './canonical.js';
import { machineFiles, type MachineFiles } from '../transaction/machine-files.js';
import type { UnitDescription, UnitFacts } from './types.js';

/** Where a cell's encoded inline configuration is written for `jailhouse cell create` (a machine path). */
export const INLINE_CONFIG_DIR = '/run/crtos/cells';

export function inlineConfigPath(unitName: string): string {
  return `${INLINE_CONFIG_DIR}/${unitName}.cell`;
}

type FileHasher = (machinePath: string) => Promise<{ hash?: string; bytes?: Buffer; error?: string }>;

function hasher(files: MachineFiles): FileHasher {
  return (path) => files.read(path).then((f) => ('bytes' in f ? { hash: f.sha256, bytes: f.bytes } : { error: f.error }));
}

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
export async function describeUnits(set: UnitSet, host: Host, sources?: ReadonlyMap<string, string>, files: MachineFiles = hostFiles(host)): Promise<Map<string, UnitDescription>> {
  const hash = hasher(files);
  const systems = systemReader(hash);
  const locate: Locator = (unit, path) => (sources ? locateInUnit(unit, path, sources) : { file: unit.source.file, line: unit.source.line, column: unit.source.column });
  const out = new Map<string, UnitDescription>();
  await Promise.all([...set.units.values()].map(async (u) => out.set(u.id, await describeUnit(u, set, hash, systems, locate))));
  return out;
}

type Locator = (unit: Unit, path: ValuePath) => { file: string; line: number; column: number };

/**
 * The problems of the unit files that describing the set revealed (see UnitDescription.unitFileError):
 * a set with any is to be refused like one with load errors.
 */
export function unitFileErrors(descriptions: ReadonlyMap<string, UnitDescription>): Problem[] {
  return [...descriptions.values()].flatMap((d) => (d.unitFileError ? [d.unitFileError] : []));
}

/** What a cell configuration must match: the revision and architecture of the system configuration. */
type SystemFacts = { revision: Revision; arch: Arch } | { error: string };
type SystemReader = (path: string, arch: Arch) => Promise<SystemFacts>;

function systemReader(hash: FileHasher): SystemReader {
  const cache = new Map<string, Promise<SystemFacts>>();
  return (path, arch) => {
    const key = `${arch}:${path}`;
    let p = cache.get(key);
    if (!p) {
      p = hash(path).then((file): SystemFacts => {
        if (!file.bytes) return { error: `cannot read ${path}: ${file.error}` };
        const decoded = decodeConfig(file.bytes, { arch });
        if (!decoded.ok) return { error: `cannot decode ${path}: ${decoded.problems.map((x) => x.message).join('; ')}` };
        if (decoded.config.kind !== 'system') return { error: `${path} is a cell configuration, not a system configuration` };
        return { revision: decoded.config.revision, arch: decoded.config.arch };
      });
      cache.set(key, p);
    }
    return p;
  };
}

async function describeUnit(unit: Unit, set: UnitSet, hash: FileHasher, systems: SystemReader, locate: Locator): Promise<UnitDescription> {
  const fieldValues: Record<string, unknown> = { ...(unit.spec as Record<string, unknown>) };
  delete fieldValues.kind;
  const facts: UnitFacts = {};
  let descProblem: UnitDescription['problem'];
  let unitFileError: Problem | undefined;
  let inlineConfig: UnitDescription['inlineConfig'];

  switch (unit.kind) {
    case 'Cell': {
      const spec = unit.spec;
      fieldValues.load = await Promise.all(
        spec.load.map(async (entry) => {
          if (!('image' in entry)) return entry;
          const image = set.units.get(unitId(entry.image, 'Image'));
          if (!image || image.kind !== 'Image') return entry;
          const file = await hash(image.spec.path);
          return { ...entry, imagePath: image.spec.path, sha256: image.spec.sha256, content: file.hash ?? 'unreadable' };
        }),
      );
      const inline = inlineConfigOf(spec);
      if (inline) {
        const encoded = await encodeInline(unit, inline, set, systems, locate);
        facts.cellName = inline.name;
        facts.cpus = inline.cpus;
        if ('bytes' in encoded) {
          inlineConfig = { path: inlineConfigPath(unit.name), bytes: encoded.bytes };
          fieldValues.config = { inline: sha256(encoded.bytes) };
        } else {
          // Not encodable now: `config` stands for the description itself until it is.
          fieldValues.config = { inline: 'unencoded', description: inline };
          descProblem = encoded.problem;
          if (encoded.unitFileError) unitFileError = encoded.problem;
        }
        break;
      }
      const path = spec.config as string;
      const cfg = await hash(path);
      fieldValues.config = { path, content: cfg.hash ?? `unreadable:${cfg.error}` };
      if (cfg.bytes) {
        const decoded = decodeConfig(cfg.bytes, { arch: cellArch(unit, set) });
        if (decoded.ok && decoded.config.kind === 'cell') {
          facts.cellName = decoded.config.name;
          facts.cpus = decoded.config.cpus;
        } else {
          const why = decoded.ok ? 'it is a system configuration, not a cell configuration' : decoded.problems.map((p) => p.message).join('; ');
          descProblem = problem('ENGINE_CELL_CONFIG', `cannot use ${path}: ${why}`, { unit: unit.id, hint: 'build the .cell file for this Jailhouse (see `crtosctl cell-config`)' });
        }
      } else {
        descProblem = problem('ENGINE_CELL_CONFIG', `cannot read the cell configuration ${path}: ${cfg.error}`, { unit: unit.id, hint: 'check the path in `config:` (it is resolved under --root)' });
      }
      break;
    }
    case 'Hypervisor': {
      const spec = unit.spec;
      facts.hypervisorType = spec.type;
      if (spec.type === 'jailhouse') {
        const sys = await hash(spec.system);
        fieldValues.system = { path: spec.system, content: sys.hash ?? 'unreadable' };
      } else {
        facts.moduleName = driverModuleName({ path: spec.module });
        const img = set.units.get(unitId(spec.image, 'Image'));
        if (img && img.kind === 'Image') {
          const content = (await hash(img.spec.path)).hash;
          fieldValues.image = { name: spec.image, content: content ?? 'unreadable' };
          if (content !== undefined) facts.imageSha256 = content;
        }
      }
      break;
    }
    case 'Driver': {
      const spec = unit.spec;
      facts.moduleName = driverModuleName(spec);
      facts.unloadOnStop = spec.unloadOnStop;
      if (spec.path) fieldValues.path = { path: spec.path, content: (await hash(spec.path)).hash ?? 'unreadable' };
      break;
    }
    case 'Image': {
      const file = await hash(unit.spec.path);
      fieldValues.path = { path: unit.spec.path, content: file.hash ?? 'unreadable' };
      facts.imagePath = unit.spec.path;
      if (unit.spec.sha256 !== undefined) facts.pinnedSha256 = unit.spec.sha256;
      break;
    }
    case 'Network':
      facts.interface = unit.spec.interface;
      facts.addresses = unit.spec.address;
      break;
    case 'Loader':
      facts.stopSignal = unit.spec.stopSignal;
      facts.stopTimeout = unit.spec.stopTimeout;
      break;
  }

  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(fieldValues)) if (v !== undefined) fields[k] = digest(v);
  return {
    id: unit.id,
    kind: unit.kind,
    fields,
    digest: digest(fields),
    facts,
    ...(descProblem ? { problem: descProblem } : {}),
    ...(unitFileError ? { unitFileError } : {}),
    ...(inlineConfig ? { inlineConfig } : {}),
  };
}

type Encoded = { bytes: Uint8Array } | { problem: Problem; unitFileError: boolean };

/**
 * The bytes of a cell's inline configuration, with the revision and architecture of the system
 * configuration its hypervisor enables (written ones must match them: Jailhouse refuses a cell of
 * another revision, and ignores one of another architecture). When the system configuration cannot
 * be read, a configuration that names both is encoded as written; otherwise the cell waits for it.
 */
async function encodeInline(cell: UnitOf<'Cell'>, inline: InlineCellConfig, set: UnitSet, systems: SystemReader, locate: Locator): Promise<Encoded> {
  const at = (...path: ValuePath) => ({ unit: cell.id, ...locate(cell, path) });
  const hv = set.units.get(unitId(cell.spec.hypervisor, 'Hypervisor'));
  if (!hv || hv.kind !== 'Hypervisor' || hv.spec.type !== 'jailhouse') {
    return { unitFileError: true, problem: problem('UNIT_CELL_CONFIG', `${cell.id} carries a Jailhouse cell configuration, but ${unitId(cell.spec.hypervisor, 'Hypervisor')} is not a Jailhouse hypervisor`, { ...at('hypervisor'), hint: 'run the cell on a `type: jailhouse` Hypervisor unit' }) };
  }
  const sys = await systems(hv.spec.system, hv.spec.arch);
  let target: { revision: Revision; arch: Arch };
  if ('error' in sys) {
    if (inline.revision === undefined || inline.arch === undefined) {
      return {
        unitFileError: false,
        problem: problem('ENGINE_CELL_CONFIG', `cannot encode the inline configuration of ${cell.id}: its revision and architecture are those of the system configuration, and ${sys.error}`, {
          unit: cell.id,
          hint: `check \`system:\` of ${hv.id} (resolved under --root), or write config.revision and config.arch`,
        }),
      };
    }
    target = { revision: inline.revision, arch: inline.arch };
  } else {
    const [mismatch] = inlineSystemMismatches(inline, sys);
    if (mismatch) {
      const { field, written, wanted } = mismatch;
      return {
        unitFileError: true,
        problem: problem('UNIT_CELL_CONFIG', `'config.${field}' of ${cell.id} is ${written}, but the system configuration ${hv.spec.system} of ${hv.id} is ${field} ${wanted}`, {
          ...at('config', field),
          hint: `leave config.${field} out (it defaults to the system configuration's) or write ${wanted}`,
        }),
      };
    }
    target = sys;
  }
  try {
    return { bytes: encodeConfig(completeInlineCellConfig(inline, target)) };
  } catch (e) {
    if (!(e instanceof ProblemError)) throw e;
    return { unitFileError: true, problem: problem('UNIT_CELL_CONFIG', `cannot encode the inline configuration of ${cell.id} as revision ${target.revision}: ${e.problems.map((p) => p.message).join('; ')}`, { ...at('config'), hint: 'correct the value in `config:`' }) };
  }
}

function cellArch(cell: UnitOf<'Cell'>, set: UnitSet): Arch {
  const hv = set.units.get(unitId(cell.spec.hypervisor, 'Hypervisor'));
  return hv && hv.kind === 'Hypervisor' && hv.spec.type === 'jailhouse' ? hv.spec.arch : 'x86';
}
