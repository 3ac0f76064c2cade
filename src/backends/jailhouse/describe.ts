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
import type { Arch, Revision } from '../../jailhouse/types.js';
import { problem, ProblemError, type Problem } from '../../errors/problem.js';
import { sha256 } from '../../engine/canonical.js';
import type { DescribeContext, KindDescription } from '../../kinds/behaviour.js';
import type { JailhouseHypervisor } from './definition.js';

export async function describeHypervisor(hv: JailhouseHypervisor, ctx: DescribeContext): Promise<KindDescription> {
  const sys = await ctx.file(hv.spec.system);
  return { fields: { system: { path: hv.spec.system, content: sys.hash ?? 'unreadable' } } };
}

/** A cell on `hv` (undefined: its hypervisor is missing or runs no cells; hvId names it either way). */
export async function describeCell(unit: Unit, hv: JailhouseHypervisor | undefined, hvId: string, ctx: DescribeContext): Promise<KindDescription> {
  const cell = unit as UnitOf<'Cell'>;
  const inline = inlineConfigOf(cell.spec);
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
  const decoded = decodeConfig(cfg.bytes, { arch: hv?.spec.arch ?? 'x86' });
  if (decoded.ok && decoded.config.kind === 'cell') return { fields, facts: { cellName: decoded.config.name, cpus: decoded.config.cpus } };
  const why = decoded.ok ? 'it is a system configuration, not a cell configuration' : decoded.problems.map((p) => p.message).join('; ');
  return { fields, problem: problem('ENGINE_CELL_CONFIG', `cannot use ${path}: ${why}`, { unit: cell.id, hint: 'build the .cell file for this Jailhouse (see `crtosctl cell-config`)' }) };
}

/** What a cell configuration must match: the revision and architecture of the system configuration. */
type SystemFacts = { revision: Revision; arch: Arch } | { error: string };

/** The system configuration's revision and architecture, decoded once per description of a set. */
function systemFacts(ctx: DescribeContext, path: string, arch: Arch): Promise<SystemFacts> {
  return ctx.shared(`jailhouse-system:${arch}:${path}`, async (): Promise<SystemFacts> => {
    const file = await ctx.file(path);
    if (!file.bytes) return { error: `cannot read ${path}: ${file.error}` };
    const decoded = decodeConfig(file.bytes, { arch });
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
