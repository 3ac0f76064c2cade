/**
 * `crtosctl validate` on Cell units that carry their configuration inline: the configuration must
 * fit the system configuration its hypervisor enables (revision, architecture) and pass the
 * consistency checks of `crtosctl cell-config check` (src/jailhouse/check.ts) together with the
 * other cells of that hypervisor. The system configuration is read under --root when given, else
 * at its path on this machine; when it cannot be read, only the checks that need no system
 * configuration run. Every finding points at the unit file (line and column of the YAML node).
 *
 * validate.ts imports this module only when the set has an inline configuration, so validating
 * file-based units never loads the .cell codec.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Problem } from '../../errors/problem.js';
import type { Unit, UnitOf, UnitSet } from '../../units/types.js';
import { unitId } from '../../units/kinds/common.js';
import { locateInUnit } from '../../units/locate.js';
import type { ValuePath } from '../../units/yaml-source.js';
import { cellFieldAt, checkCellConfigs, checkConfigs, completeInlineCellConfig, decodeConfig, inlineSystemMismatches, type CellConfig, type SystemConfig } from '../../jailhouse/index.js';

export interface InlineCheckOptions {
  /** --root: machine paths resolve under it; undefined reads them on this machine. */
  root?: string;
  /** Unit file texts, for positions. */
  sources: ReadonlyMap<string, string>;
}

/** The Cell units of `set` with an inline configuration. */
export function inlineCells(set: UnitSet): UnitOf<'Cell'>[] {
  return [...set.units.values()].filter((u): u is UnitOf<'Cell'> => u.kind === 'Cell' && typeof u.spec.config !== 'string');
}

export async function checkInlineCells(set: UnitSet, opts: InlineCheckOptions): Promise<Problem[]> {
  const read = (path: string): Promise<Buffer | undefined> => readFile(opts.root === undefined ? path : join(opts.root, path)).catch(() => undefined);
  const problems: Problem[] = [];
  const byHypervisor = new Map<string, UnitOf<'Cell'>[]>();
  for (const c of inlineCells(set)) {
    const id = unitId(c.spec.hypervisor, 'Hypervisor');
    byHypervisor.set(id, [...(byHypervisor.get(id) ?? []), c]);
  }
  for (const [hvId, cells] of byHypervisor) {
    const hv = set.units.get(hvId);
    if (!hv || hv.kind !== 'Hypervisor' || hv.spec.type !== 'jailhouse') {
      for (const c of cells) problems.push(at(c, ['hypervisor'], opts, 'UNIT_CELL_CONFIG', `${c.id} carries a Jailhouse cell configuration, but ${hvId} is not a Jailhouse hypervisor`, 'run the cell on a `type: jailhouse` Hypervisor unit'));
      continue;
    }
    const bytes = await read(hv.spec.system);
    const decoded = bytes && decodeConfig(bytes, { arch: hv.spec.arch });
    const system = decoded && decoded.ok && decoded.config.kind === 'system' ? decoded.config : undefined;
    problems.push(...(await checkHypervisorCells(set, hv.spec.system, system, hv.spec.arch, cells, read, opts)));
  }
  return problems;
}

async function checkHypervisorCells(
  set: UnitSet,
  systemPath: string,
  system: SystemConfig | undefined,
  hvArch: SystemConfig['arch'],
  inline: UnitOf<'Cell'>[],
  read: (path: string) => Promise<Buffer | undefined>,
  opts: InlineCheckOptions,
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const target = system ?? { revision: undefined, arch: hvArch };
  // The inline cells, labelled by unit id so findings map back to them.
  const members = new Map<string, { unit: UnitOf<'Cell'>; config: CellConfig }>();
  for (const cell of inline) {
    const config = cell.spec.config as Exclude<typeof cell.spec.config, string>;
    const mismatches = inlineSystemMismatches(config, target);
    for (const { field, written, wanted } of mismatches) {
      problems.push(at(cell, ['config', field], opts, 'UNIT_CELL_CONFIG', `'config.${field}' is ${written}, but the system configuration ${systemPath} is ${field} ${wanted}`, `leave config.${field} out (it defaults to the system configuration's) or write ${wanted}`));
    }
    if (mismatches.length > 0) continue;
    members.set(cell.id, { unit: cell, config: completeInlineCellConfig(config, { revision: target.revision ?? config.revision ?? 14, arch: target.arch }) });
  }
  const cells = [...members].map(([id, m]) => ({ file: id, config: m.config }));
  let findings: Problem[];
  if (system) {
    // The hypervisor's cells from .cell files take part too (a CPU two cells claim, say).
    for (const u of set.units.values()) {
      if (u.kind !== 'Cell' || typeof u.spec.config !== 'string' || u.spec.hypervisor !== inline[0]!.spec.hypervisor) continue;
      const file = await read(u.spec.config);
      const d = file && decodeConfig(file, { arch: system.arch });
      if (d && d.ok && d.config.kind === 'cell') cells.push({ file: u.spec.config, config: d.config });
    }
    findings = checkConfigs({ system: { file: systemPath, config: system }, cells });
  } else {
    findings = checkCellConfigs(cells, target.arch);
  }
  for (const p of findings) {
    const m = members.get(p.file ?? '');
    if (!m) continue; // a finding of a .cell file or the system configuration: `cell-config check` reports those
    const { offset: _offset, ...rest } = p;
    problems.push({ ...rest, unit: m.unit.id, ...locateInUnit(m.unit as Unit, p.offset === undefined ? ['config'] : ['config', ...cellFieldAt(m.config, p.offset)], opts.sources) });
  }
  return problems;
}

function at(cell: UnitOf<'Cell'>, path: ValuePath, opts: InlineCheckOptions, code: Problem['code'], message: string, hint: string): Problem {
  return { code, message, unit: cell.id, hint, ...locateInUnit(cell as Unit, path, opts.sources) };
}
