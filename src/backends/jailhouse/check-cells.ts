/**
 * The cells of one Jailhouse hypervisor, their configurations as the hypervisor will judge them,
 * before any of them is used: the system configuration decodes as one; each cell's configuration
 * (a .cell file, or written inline and encoded with the system's revision) decodes, fits the
 * system, and passes the consistency checks of `crtosctl cell-config check` together with the
 * other cells and the images loaded into them (CPU 0 given away, CPUs two cells claim, regions
 * that overlap, ivshmem peers that disagree, an image past its region). Every finding points at
 * the unit file.
 *
 * Offline (no machine), only inline configurations are checked, on their own. Loaded only when a
 * set has cells (jailhouse/definition.ts), with the .cell codec.
 */
import type { Problem } from '../../errors/problem.js';
import type { Unit, UnitOf } from '../../units/types.js';
import { unitId } from '../../kinds/spec-common.js';
import { FILE_HINT, unitProblem, type CheckContext } from '../../transaction/context.js';
import * as codec from '../../jailhouse/index.js';
import type { CellConfig, SystemConfig } from '../../jailhouse/index.js';
import { archOption, ARCH_HINT, systemLabel, type JailhouseHypervisor } from './definition.js';
import { checkedLayout } from './checked-layout.js';
import { ROOT_PEER } from '../../kinds/link/spec.js';
import { checkFit } from './check-fit.js';
import { checkReplyTimeouts } from './check-reply.js';

type Cell = UnitOf<'Cell'>;

/** One cell of a hypervisor, its configuration as the hypervisor would receive it. */
interface Member {
  unit: Cell;
  config: CellConfig;
  /** How findings at a byte offset map back: the inline YAML field, or the `.cell` file. */
  inline: boolean;
}

export async function checkCells(ctx: CheckContext, hv: JailhouseHypervisor, units: readonly Unit[]): Promise<Problem[]> {
  const cells = units as readonly Cell[];
  const out: Problem[] = [];
  // Written inline, the system configuration is known offline too.
  const written = hv.spec.system;
  const system = typeof written !== 'string' ? written : ctx.machine ? await readSystem(ctx, hv, written, out) : undefined;
  if (ctx.machine && !system) return out; // nothing to judge the cells against
  // Offline, the architecture the unit writes (or x86): only the inline configurations are checked then.
  const target = system ?? { revision: undefined, arch: hv.spec.arch ?? 'x86' };
  const members: Member[] = [];
  for (const cell of cells) {
    const member = typeof cell.spec.config === 'string' ? await readCellFile(ctx, cell, cell.spec.config, target.arch, out) : inlineMember(ctx, cell, hv, target, out);
    if (member) members.push(member);
  }
  // What the hypervisor will be given: the configurations with their links, where links exist.
  // A cell (or the root cell) whose link could not be placed is judged once it can be: without the
  // link, its configuration would show findings that are only the missing link's (an image that no
  // longer fits its R/W section), beside the link's own finding.
  const layout = await checkedLayout(ctx, hv);
  if (layout.incomplete.has(ROOT_PEER)) return out;
  const complete = members.filter((m) => !layout.incomplete.has(m.unit.id));
  for (const m of complete) m.config = layout.cells.get(m.unit.id)?.config ?? m.config;
  const labelled = complete.map((m) => ({ file: m.unit.id, config: m.config }));
  const enabled = layout.system?.config ?? system;
  const findings = enabled
    ? codec.checkConfigs({ system: { file: hv.id, config: enabled }, cells: labelled, images: await imagesOf(ctx, complete), ...(hv.spec.linkPool ? { inmateMemory: [hv.spec.linkPool] } : {}) })
    : codec.checkCellConfigs(labelled, target.arch);
  for (const finding of findings) out.push(toUnitProblem(ctx, finding, members, hv));
  out.push(...checkReplyTimeouts(ctx, complete));
  if (ctx.facts) out.push(...checkFit(ctx, ctx.facts, hv, enabled, complete));
  return out;
}

async function readSystem(ctx: CheckContext, hv: JailhouseHypervisor, path: string, out: Problem[]): Promise<SystemConfig | undefined> {
  const file = await ctx.machine!.read(path);
  if ('error' in file) {
    if (!file.missing) out.push(unitProblem(ctx, hv, ['system'], 'UNIT_FILE_MISSING', `'system' names ${path}, which ${file.error}`, FILE_HINT));
    return undefined;
  }
  const decoded = codec.decodeConfig(file.bytes, archOption(hv.spec));
  if (!decoded.ok) {
    const archUnknown = decoded.problems.some((p) => p.code === 'CELLCFG_ARCH_UNKNOWN');
    out.push(unitProblem(ctx, hv, ['system'], 'UNIT_FILE_INVALID', `${path} is not a Jailhouse system configuration: ${decoded.problems.map((p) => p.message).join('; ')}`, archUnknown ? ARCH_HINT : 'build it for this Jailhouse (`crtosctl cell-config show` reads it)'));
    return undefined;
  }
  if (decoded.config.kind !== 'system') {
    out.push(unitProblem(ctx, hv, ['system'], 'UNIT_FILE_INVALID', `${path} is a cell configuration, not a system configuration`, 'name the system configuration `jailhouse enable` takes'));
    return undefined;
  }
  return decoded.config;
}

async function readCellFile(ctx: CheckContext, cell: Cell, path: string, arch: CellConfig['arch'], out: Problem[]): Promise<Member | undefined> {
  if (!ctx.machine) return undefined;
  const file = await ctx.machine.read(path);
  if ('error' in file) {
    if (!file.missing) out.push(unitProblem(ctx, cell, ['config'], 'UNIT_FILE_MISSING', `'config' names ${path}, which ${file.error}`, FILE_HINT));
    return undefined;
  }
  const decoded = codec.decodeConfig(file.bytes, { arch });
  if (!decoded.ok || decoded.config.kind !== 'cell') {
    const why = decoded.ok ? 'it is a system configuration' : decoded.problems.map((p) => p.message).join('; ');
    out.push(unitProblem(ctx, cell, ['config'], 'UNIT_FILE_INVALID', `${path} is not a Jailhouse cell configuration: ${why}`, 'build the .cell file for this Jailhouse (`crtosctl cell-config show` reads it)'));
    return undefined;
  }
  return { unit: cell, config: decoded.config, inline: false };
}

function inlineMember(ctx: CheckContext, cell: Cell, hv: JailhouseHypervisor, target: { revision: SystemConfig['revision'] | undefined; arch: SystemConfig['arch'] }, out: Problem[]): Member | undefined {
  const inline = cell.spec.config as Exclude<typeof cell.spec.config, string>;
  const mismatches = codec.inlineSystemMismatches(inline, target);
  for (const { field, written, wanted } of mismatches) {
    out.push(unitProblem(ctx, cell, ['config', field], 'UNIT_CELL_CONFIG', `'config.${field}' is ${written}, but the system configuration ${systemLabel(hv.spec)} is ${field} ${wanted}`, `leave config.${field} out (it defaults to the system configuration's) or write ${wanted}`));
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
      const image = ctx.set.units.get(unitId(entry.image, 'Image')) as UnitOf<'Image'> | undefined;
      if (!image?.spec.path) continue;
      const file = await ctx.machine!.read(image.spec.path);
      if ('bytes' in file) out.push({ cell: m.config.name, file: image.spec.path, size: file.bytes.length, address: BigInt(entry.address) });
    }
  }
  return out;
}

/** A finding of the consistency checks, moved to the unit file that caused it. */
function toUnitProblem(ctx: CheckContext, finding: Problem, members: readonly Member[], hv: JailhouseHypervisor): Problem {
  const { offset, file: _file, ...rest } = finding;
  const m = members.find((x) => x.unit.id === finding.file);
  if (!m) {
    // The system configuration's own finding (its root cell): reported at `system:`.
    const at = unitProblem(ctx, hv, ['system'], finding.code, `${systemLabel(hv.spec)}: ${finding.message}`, finding.hint ?? '');
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
