/**
 * Jailhouse configurations, as the hypervisor will judge them, before any of them is used: each
 * hypervisor's system configuration decodes as one; each of its cells' configurations (a .cell
 * file, or written inline and encoded with the system's revision) decodes, fits the system, and
 * passes the consistency checks of `crtosctl cell-config check` together with the other cells and
 * the images loaded into them (CPU 0 given away, CPUs two cells claim, regions that overlap,
 * ivshmem peers that disagree, an image past its region). Every finding points at the unit file.
 *
 * Offline (no machine), only inline configurations are checked, on their own.
 *
 * The .cell codec is loaded only when the set has a cell, so validating other sets stays light.
 */
import type { Problem } from '../../errors/problem.js';
import type { Unit, UnitOf } from '../../units/types.js';
import { unitId } from '../spec-common.js';
import { imageSpecOf } from '../image/spec.js';
import { jailhouseHypervisorOf, type JailhouseHypervisorUnit as HypervisorUnit } from '../hypervisor/spec.js';
import { FILE_HINT, unitProblem, type CheckContext } from '../../transaction/context.js';
import type * as Jailhouse from '../../jailhouse/index.js';
import type { CellConfig, SystemConfig } from '../../jailhouse/index.js';

type Codec = typeof Jailhouse;

/** One cell of a hypervisor, its configuration as the hypervisor would receive it. */
interface Member {
  unit: UnitOf<'Cell'>;
  config: CellConfig;
  /** How findings at a byte offset map back: the inline YAML field, or the `.cell` file. */
  inline: boolean;
}

/** The Cell units of the set (the transaction check hands over this kind's units). */
export async function checkCells(ctx: CheckContext, units: readonly Unit[]): Promise<Problem[]> {
  const cells = units as readonly UnitOf<'Cell'>[];
  if (cells.length === 0) return [];
  const codec = (await import('../../jailhouse/index.js')) as Codec;
  const out: Problem[] = [];
  const byHypervisor = new Map<string, UnitOf<'Cell'>[]>();
  for (const c of cells) {
    const id = unitId(c.spec.hypervisor, 'Hypervisor');
    byHypervisor.set(id, [...(byHypervisor.get(id) ?? []), c]);
  }
  for (const [hvId, members] of byHypervisor) {
    const found = ctx.set.units.get(hvId);
    const hv = jailhouseHypervisorOf(found);
    if (!hv) {
      // A reference to a missing unit is the loader's finding; another type cannot take .cell files.
      if (found) for (const c of members) out.push(unitProblem(ctx, c, ['hypervisor'], 'UNIT_CELL_CONFIG', `${c.id} is a Jailhouse cell, but ${hvId} is not a Jailhouse hypervisor`, 'run the cell on a `type: jailhouse` Hypervisor unit'));
      continue;
    }
    out.push(...(await checkHypervisor(ctx, codec, hv, members)));
  }
  return out;
}

async function checkHypervisor(ctx: CheckContext, codec: Codec, hv: HypervisorUnit, cells: UnitOf<'Cell'>[]): Promise<Problem[]> {
  const out: Problem[] = [];
  const system = ctx.machine ? await readSystem(ctx, codec, hv, out) : undefined;
  if (ctx.machine && !system) return out; // nothing to judge the cells against
  const target = system ?? { revision: undefined, arch: hv.spec.arch };
  const members: Member[] = [];
  for (const cell of cells) {
    const member = typeof cell.spec.config === 'string' ? await readCellFile(ctx, codec, cell, cell.spec.config, target.arch, out) : inlineMember(ctx, codec, cell, hv, target, out);
    if (member) members.push(member);
  }
  const labelled = members.map((m) => ({ file: m.unit.id, config: m.config }));
  const findings = system
    ? codec.checkConfigs({ system: { file: hv.id, config: system }, cells: labelled, images: await imagesOf(ctx, members) })
    : codec.checkCellConfigs(labelled, target.arch);
  for (const finding of findings) out.push(toUnitProblem(ctx, codec, finding, members, hv));
  return out;
}

async function readSystem(ctx: CheckContext, codec: Codec, hv: HypervisorUnit, out: Problem[]): Promise<SystemConfig | undefined> {
  const path = hv.spec.system;
  const file = await ctx.machine!.read(path);
  const where = path;
  if ('error' in file) {
    if (!file.missing) out.push(unitProblem(ctx, hv, ['system'], 'UNIT_FILE_MISSING', `'system' names ${where}, which ${file.error}`, FILE_HINT));
    return undefined;
  }
  const decoded = codec.decodeConfig(file.bytes, { arch: hv.spec.arch });
  if (!decoded.ok) {
    out.push(unitProblem(ctx, hv, ['system'], 'UNIT_FILE_INVALID', `${where} is not a Jailhouse system configuration: ${decoded.problems.map((p) => p.message).join('; ')}`, 'build it for this Jailhouse (`crtosctl cell-config show` reads it)'));
    return undefined;
  }
  if (decoded.config.kind !== 'system') {
    out.push(unitProblem(ctx, hv, ['system'], 'UNIT_FILE_INVALID', `${where} is a cell configuration, not a system configuration`, 'name the system configuration `jailhouse enable` takes'));
    return undefined;
  }
  return decoded.config;
}

async function readCellFile(ctx: CheckContext, codec: Codec, cell: UnitOf<'Cell'>, path: string, arch: CellConfig['arch'], out: Problem[]): Promise<Member | undefined> {
  if (!ctx.machine) return undefined;
  const file = await ctx.machine.read(path);
  const where = path;
  if ('error' in file) {
    if (!file.missing) out.push(unitProblem(ctx, cell, ['config'], 'UNIT_FILE_MISSING', `'config' names ${where}, which ${file.error}`, FILE_HINT));
    return undefined;
  }
  const decoded = codec.decodeConfig(file.bytes, { arch });
  if (!decoded.ok || decoded.config.kind !== 'cell') {
    const why = decoded.ok ? 'it is a system configuration' : decoded.problems.map((p) => p.message).join('; ');
    out.push(unitProblem(ctx, cell, ['config'], 'UNIT_FILE_INVALID', `${where} is not a Jailhouse cell configuration: ${why}`, 'build the .cell file for this Jailhouse (`crtosctl cell-config show` reads it)'));
    return undefined;
  }
  return { unit: cell, config: decoded.config, inline: false };
}

function inlineMember(
  ctx: CheckContext,
  codec: Codec,
  cell: UnitOf<'Cell'>,
  hv: HypervisorUnit,
  target: { revision: SystemConfig['revision'] | undefined; arch: SystemConfig['arch'] },
  out: Problem[],
): Member | undefined {
  const inline = cell.spec.config as Exclude<typeof cell.spec.config, string>;
  const mismatches = codec.inlineSystemMismatches(inline, target);
  for (const { field, written, wanted } of mismatches) {
    out.push(unitProblem(ctx, cell, ['config', field], 'UNIT_CELL_CONFIG', `'config.${field}' is ${written}, but the system configuration ${hv.spec.system} is ${field} ${wanted}`, `leave config.${field} out (it defaults to the system configuration's) or write ${wanted}`));
  }
  if (mismatches.length > 0) return undefined;
  const config = codec.completeInlineCellConfig(inline, { revision: target.revision ?? inline.revision ?? 14, arch: target.arch });
  try {
    codec.encodeConfig(config);
  } catch (e) {
    const why = e instanceof Error && 'problems' in e ? (e as { problems: Problem[] }).problems.map((p) => p.message).join('; ') : String(e);
    out.push(unitProblem(ctx, cell, ['config'], 'UNIT_CELL_CONFIG', `the configuration cannot be encoded as revision ${config.revision}: ${why}`, 'correct the value in `config:`'));
    return undefined;
  }
  return { unit: cell, config, inline: true };
}

/** The images each cell is loaded with, for the check that they fit the region they land in. */
async function imagesOf(ctx: CheckContext, members: readonly Member[]) {
  const out: { cell: string; file: string; size: number; address: bigint }[] = [];
  for (const m of members) {
    for (const entry of m.unit.spec.load) {
      if (!('image' in entry)) continue;
      const image = imageSpecOf(ctx.set.units.get(unitId(entry.image, 'Image')));
      if (!image) continue;
      const file = await ctx.machine!.read(image.path);
      if ('bytes' in file) out.push({ cell: m.config.name, file: image.path, size: file.bytes.length, address: BigInt(entry.address) });
    }
  }
  return out;
}

/** A finding of the consistency checks, moved to the unit file that caused it. */
function toUnitProblem(ctx: CheckContext, codec: Codec, finding: Problem, members: readonly Member[], hv: HypervisorUnit): Problem {
  const { offset, file: _file, ...rest } = finding;
  const m = members.find((x) => x.unit.id === finding.file);
  if (!m) {
    // The system configuration's own finding (its root cell): reported at `system:`.
    const at = unitProblem(ctx, hv, ['system'], finding.code, `${hv.spec.system}: ${finding.message}`, finding.hint ?? '');
    return { ...rest, ...at, message: at.message };
  }
  if (m.inline) {
    const path = offset === undefined ? ['config'] : ['config', ...codec.cellFieldAt(m.config, offset)];
    return { ...rest, ...unitProblem(ctx, m.unit, path, finding.code, finding.message, finding.hint ?? 'correct the value in `config:`') };
  }
  const inFile = offset === undefined ? '' : ` (at byte ${offset}: ${codec.cellFieldAt(m.config, offset).join('.')})`;
  const at = unitProblem(ctx, m.unit, ['config'], finding.code, `${m.unit.spec.config as string}${inFile}: ${finding.message}`, finding.hint ?? 'correct the .cell file');
  return { ...rest, ...at };
}
