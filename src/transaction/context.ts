/** What every pass of a transaction check reads: the set, the unit file texts, the machine's files. */
import type { Problem } from '../errors/problem.js';
import type { ProblemCode } from '../errors/codes.js';
import type { Unit, UnitSet } from '../units/types.js';
import { locateInUnit } from '../units/locate.js';
import type { ValuePath } from '../units/yaml-source.js';
import type { MachineFiles } from './machine-files.js';
import type { MachineIdentity } from '../facts/types.js';

export interface CheckContext {
  set: UnitSet;
  /** Unit file texts (loadUnits returns them), so problems point at their YAML node. */
  sources: ReadonlyMap<string, string>;
  /** Absent: offline (`crtosctl validate` without --root); only the checks that need no machine run. */
  machine: MachineFiles | undefined;
  /** The machine's facts, when known: units are also checked to fit it (CPUs it has, memory inside its RAM). */
  facts?: MachineIdentity;
}

export type Pass = (ctx: CheckContext) => Promise<Problem[]>;

/** A problem of `unit`, at the YAML node of `path` (in the unit's file or the drop-in that set it). */
export function unitProblem(ctx: CheckContext, unit: Unit, path: ValuePath, code: ProblemCode, message: string, hint: string): Problem {
  return { code, message, unit: unit.id, hint, ...locateInUnit(unit, path, ctx.sources) };
}

/** The hint for a file that is missing or unreadable: paths are machine paths, under --root. */
export const FILE_HINT = 'install the file, or correct the path (paths are resolved under --root)';

/** Dotted field paths of the kind tables (`load.0.image`) as YAML value paths. */
export function fieldPath(field: string): ValuePath {
  return field.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}
