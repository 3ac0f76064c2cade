/**
 * Descriptions: per unit, a digest per top-level field of its spec, with the contents of the files
 * that matter folded in (a cell's .cell bytes into `config`, its images' bytes into `load`, the
 * system configuration into `system`, a .ko into `path`). Computed when a unit set is loaded, so a
 * reconcile pass compares digests and reads no files.
 */
import type { Host } from '../host/host.js';
import type { Unit, UnitOf, UnitSet } from '../units/types.js';
import { unitId } from '../units/kinds/common.js';
import { driverModuleName } from '../units/kinds/driver.js';
import { decodeConfig } from '../jailhouse/decode.js';
import type { Arch } from '../jailhouse/types.js';
import { problem } from '../errors/problem.js';
import { digest, sha256 } from './canonical.js';
import type { UnitDescription, UnitFacts } from './types.js';

type FileHasher = (machinePath: string) => Promise<{ hash?: string; bytes?: Buffer; error?: string }>;

function hasher(host: Host): FileHasher {
  const cache = new Map<string, Promise<{ hash?: string; bytes?: Buffer; error?: string }>>();
  return (path) => {
    let p = cache.get(path);
    if (!p) {
      p = host.readFile(path).then(
        (bytes) => ({ hash: sha256(bytes), bytes }),
        (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }),
      );
      cache.set(path, p);
    }
    return p;
  };
}

export async function describeUnits(set: UnitSet, host: Host): Promise<Map<string, UnitDescription>> {
  const hash = hasher(host);
  const out = new Map<string, UnitDescription>();
  await Promise.all([...set.units.values()].map(async (u) => out.set(u.id, await describeUnit(u, set, hash))));
  return out;
}

async function describeUnit(unit: Unit, set: UnitSet, hash: FileHasher): Promise<UnitDescription> {
  const fieldValues: Record<string, unknown> = { ...(unit.spec as Record<string, unknown>) };
  delete fieldValues.kind;
  const facts: UnitFacts = {};
  let descProblem: UnitDescription['problem'];

  switch (unit.kind) {
    case 'Cell': {
      const spec = unit.spec;
      const cfg = await hash(spec.config);
      fieldValues.config = { path: spec.config, content: cfg.hash ?? `unreadable:${cfg.error}` };
      fieldValues.load = await Promise.all(
        spec.load.map(async (entry) => {
          if (!('image' in entry)) return entry;
          const image = set.units.get(unitId(entry.image, 'Image'));
          if (!image || image.kind !== 'Image') return entry;
          const file = await hash(image.spec.path);
          return { ...entry, imagePath: image.spec.path, sha256: image.spec.sha256, content: file.hash ?? 'unreadable' };
        }),
      );
      if (cfg.bytes) {
        const decoded = decodeConfig(cfg.bytes, { arch: cellArch(unit, set) });
        if (decoded.ok && decoded.config.kind === 'cell') {
          facts.cellName = decoded.config.name;
          facts.cpus = decoded.config.cpus;
        } else {
          const why = decoded.ok ? 'it is a system configuration, not a cell configuration' : decoded.problems.map((p) => p.message).join('; ');
          descProblem = problem('ENGINE_CELL_CONFIG', `cannot use ${spec.config}: ${why}`, { unit: unit.id, hint: 'build the .cell file for this Jailhouse (see `crtosctl cell-config`)' });
        }
      } else {
        descProblem = problem('ENGINE_CELL_CONFIG', `cannot read the cell configuration ${spec.config}: ${cfg.error}`, { unit: unit.id, hint: 'check the path in `config:` (it is resolved under --root)' });
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
  return { id: unit.id, kind: unit.kind, fields, digest: digest(fields), facts, ...(descProblem ? { problem: descProblem } : {}) };
}

function cellArch(cell: UnitOf<'Cell'>, set: UnitSet): Arch {
  const hv = set.units.get(unitId(cell.spec.hypervisor, 'Hypervisor'));
  return hv && hv.kind === 'Hypervisor' && hv.spec.type === 'jailhouse' ? hv.spec.arch : 'x86';
}
