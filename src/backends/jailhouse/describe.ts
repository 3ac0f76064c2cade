/**
 * What a Jailhouse hypervisor and its cells fold into their descriptions: the system
 * configuration's bytes; a cell's .cell bytes, with its name and CPUs read from them, or its
 * inline configuration encoded with the revision and architecture of its hypervisor's system
 * configuration (an edit that changes no byte, keys reordered or `4K` for `0x1000`, changes
 * nothing; any other re-creates the cell).
 */
import type { Unit, UnitOf } from '../../units/types.js';
import type { ValuePath } from '../../units/yaml-source.js';
import { inlineConfigOf, inlineConfigPath } from '../../kinds/cell/spec.js';
import { decodeConfig } from '../../jailhouse/decode.js';
import { encodeConfig } from '../../jailhouse/encode.js';
import { completeInlineCellConfig, inlineSystemMismatches, type InlineCellConfig } from '../../jailhouse/description.js';
import type { Arch, Revision, SystemConfig } from '../../jailhouse/types.js';
import { problem, ProblemError, type Problem } from '../../errors/problem.js';
import { sha256 } from '../../engine/canonical.js';
import type { DescribeContext, KindDescription } from '../../kinds/behaviour.js';
import { systemLabel, type JailhouseHypervisor } from './definition.js';
import { layOut, recordedPlacements, type JailhouseLayout } from './layout.js';

/** Where the system configuration generated with a hypervisor's links is written, to enable it from. */
export function systemConfigPath(hvName: string): string {
  return `/run/crtos/hypervisors/${hvName}.cell`;
}

/** The hypervisor's configurations with its links, laid out once per description of a set. */
export function describedLayout(hv: JailhouseHypervisor, ctx: DescribeContext): Promise<JailhouseLayout> {
  return ctx.shared(`jailhouse-layout:${hv.id}`, () =>
    layOut({
      hv,
      set: ctx.set,
      read: async (path) => {
        const f = await ctx.file(path);
        return f.bytes && f.hash ? { bytes: f.bytes, sha256: f.hash } : { error: f.error ?? 'cannot be read', missing: false };
      },
      previous: recordedPlacements(ctx.set, hv.id, (id) => ctx.recorded(id)),
    }),
  );
}

/**
 * The base system configuration's bytes (its file's, or the inline one encoded); with links whose
 * peer is the root cell, also the digest of those links (`links`: a change re-enables). What
 * crtosd generated (links added, or an inline configuration) is written for enable to take.
 */
export async function describeHypervisor(hv: JailhouseHypervisor, ctx: DescribeContext): Promise<KindDescription> {
  const layout = await describedLayout(hv, ctx);
  const system = hv.spec.system;
  const own = typeof system === 'string' ? undefined : encodeSystem(hv, system);
  if (own && 'problem' in own) return { fields: { system: { inline: 'unencoded' } }, problem: own.problem, unitFileError: true };
  const fields = own ? { system: { inline: sha256(own.bytes) } } : { system: { path: system as string, content: (await ctx.file(system as string)).hash ?? 'unreadable' } };
  const bytes = layout.system?.bytes ?? own?.bytes;
  return {
    fields: layout.system ? { ...fields, links: layout.system.links } : fields,
    ...(bytes ? { inlineConfig: { path: systemConfigPath(hv.name), bytes } } : {}),
  };
}

function encodeSystem(hv: JailhouseHypervisor, config: SystemConfig): { bytes: Uint8Array } | { problem: Problem } {
  try {
    return { bytes: encodeConfig(config) };
  } catch (e) {
    if (!(e instanceof ProblemError)) throw e;
    return { problem: problem('UNIT_CELL_CONFIG', `${hv.id}: the inline system configuration cannot be encoded as revision ${config.revision}: ${e.problems.map((p) => p.message).join('; ')}`, { unit: hv.id, hint: 'correct the value in `system:`' }) };
  }
}

/** A cell on `hv` (undefined: its hypervisor is missing or runs no cells; hvId names it either way). */
export async function describeCell(unit: Unit, hv: JailhouseHypervisor | undefined, hvId: string, ctx: DescribeContext): Promise<KindDescription> {
  const cell = unit as UnitOf<'Cell'>;
  const inline = inlineConfigOf(cell.spec);
  const own = await describeOwnConfig(cell, inline, hv, hvId, ctx);
  const generated = hv && !own.problem ? (await describedLayout(hv, ctx)).cells.get(cell.id) : undefined;
  if (!generated) return own;
  // A peer of links: created from its own configuration with its links, which reach it with the
  // re-enable that gives them to the root cell.
  return {
    ...own,
    fields: { ...own.fields, links: generated.links },
    inlineConfig: { path: inlineConfigPath(cell.name), bytes: generated.bytes },
    heldWith: { links: hvId },
  };
}

async function describeOwnConfig(cell: UnitOf<'Cell'>, inline: InlineCellConfig | undefined, hv: JailhouseHypervisor | undefined, hvId: string, ctx: DescribeContext): Promise<KindDescription> {
  if (inline) {
    const facts = { cellName: inline.name, cpus: inline.cpus };
    const encoded = await encodeInline(cell, inline, hv, hvId, ctx);
    if ('bytes' in encoded) return { fields: { config: { inline: sha256(encoded.bytes) } }, facts, inlineConfig: { path: inlineConfigPath(cell.name), bytes: encoded.bytes } };
    // Not encodable now: `config` stands for the description itself until it is.
    return { fields: { config: { inline: 'unencoded', description: inline } }, facts, problem: encoded.problem, unitFileError: encoded.unitFileError };
  }
  const path = cell.spec.config as string;
  const cfg = await ctx.file(path);
  const fields = { config: { path, content: cfg.hash ?? `unreadable:${cfg.error}` } };
  if (!cfg.bytes) {
    return { fields, problem: problem('ENGINE_CELL_CONFIG', `cannot read the cell configuration ${path}: ${cfg.error}`, { unit: cell.id, hint: 'check the path in `config:` (it is resolved under --root)' }) };
  }
  // A .cell file is read with the architecture of the system configuration it runs under.
  const sys = hv ? await systemFacts(ctx, hv.spec.system, hv.spec.arch) : undefined;
  const arch = sys && 'arch' in sys ? sys.arch : hv?.spec.arch;
  const decoded = decodeConfig(cfg.bytes, arch ? { arch } : {});
  if (decoded.ok && decoded.config.kind === 'cell') return { fields, facts: { cellName: decoded.config.name, cpus: decoded.config.cpus } };
  const why = decoded.ok ? 'it is a system configuration, not a cell configuration' : decoded.problems.map((p) => p.message).join('; ');
  return { fields, problem: problem('ENGINE_CELL_CONFIG', `cannot use ${path}: ${why}`, { unit: cell.id, hint: 'build the .cell file for this Jailhouse (see `crtosctl cell-config`)' }) };
}

/** What a cell configuration must match: the revision and architecture of the system configuration. */
type SystemFacts = { revision: Revision; arch: Arch } | { error: string };

/** The system configuration's revision and architecture, decoded once per description of a set. */
function systemFacts(ctx: DescribeContext, system: JailhouseHypervisor['spec']['system'], arch: Arch | undefined): Promise<SystemFacts> {
  if (typeof system !== 'string') return Promise.resolve({ revision: system.revision, arch: system.arch });
  const path = system;
  return ctx.shared(`jailhouse-system:${arch ?? 'read'}:${path}`, async (): Promise<SystemFacts> => {
    const file = await ctx.file(path);
    if (!file.bytes) return { error: `cannot read ${path}: ${file.error}` };
    const decoded = decodeConfig(file.bytes, arch ? { arch } : {});
    if (!decoded.ok) return { error: `cannot decode ${path}: ${decoded.problems.map((x) => x.message).join('; ')}` };
    if (decoded.config.kind !== 'system') return { error: `${path} is a cell configuration, not a system configuration` };
    return { revision: decoded.config.revision, arch: decoded.config.arch };
  });
}

type Encoded = { bytes: Uint8Array } | { problem: Problem; unitFileError: boolean };

/**
 * The bytes of a cell's inline configuration, with the revision and architecture of the system
 * configuration its hypervisor enables (written ones must match them: Jailhouse refuses a cell of
 * another revision, and ignores one of another architecture). When the system configuration cannot
 * be read, a configuration that names both is encoded as written; otherwise the cell waits for it.
 */
async function encodeInline(cell: UnitOf<'Cell'>, inline: InlineCellConfig, hv: JailhouseHypervisor | undefined, hvId: string, ctx: DescribeContext): Promise<Encoded> {
  const at = (...path: ValuePath) => ({ unit: cell.id, ...ctx.locate(cell, path) });
  if (!hv) {
    return { unitFileError: true, problem: problem('UNIT_CELL_CONFIG', `${cell.id} carries a Jailhouse cell configuration, but ${hvId} is not a Jailhouse hypervisor`, { ...at('hypervisor'), hint: 'run the cell on a `type: jailhouse` Hypervisor unit' }) };
  }
  const sys = await systemFacts(ctx, hv.spec.system, hv.spec.arch);
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
        problem: problem('UNIT_CELL_CONFIG', `'config.${field}' of ${cell.id} is ${written}, but the system configuration ${systemLabel(hv.spec)} of ${hv.id} is ${field} ${wanted}`, {
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
