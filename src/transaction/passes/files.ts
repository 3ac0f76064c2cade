/**
 * Every machine file a unit names exists (a .cell file, an image, a module, a loader's program),
 * and every device node a loader is handed in its environment exists or is provided by a Driver
 * of the set: a start that would fail on a missing file is refused before anything is touched.
 */
import { KINDS } from '../../kinds/index.js';
import type { Problem } from '../../errors/problem.js';
import { fieldPath, FILE_HINT, unitProblem, type Pass } from '../context.js';

export const filesPass: Pass = async (ctx) => {
  const machine = ctx.machine;
  if (!machine) return [];
  const checks: Promise<Problem | undefined>[] = [];
  for (const unit of ctx.set.units.values()) {
    for (const ref of KINDS[unit.kind].files(unit.spec as never)) {
      // A program name without a path is looked up on PATH when it starts.
      if (!ref.path.startsWith('/')) continue;
      checks.push(
        machine.exists(ref.path).then((ok) =>
          ok ? undefined : unitProblem(ctx, unit, fieldPath(ref.field), 'UNIT_FILE_MISSING', `'${ref.field}' names ${ref.path}, which does not exist`, FILE_HINT),
        ),
      );
    }
  }
  const provided = new Set([...ctx.set.units.values()].flatMap((u) => (u.kind === 'Driver' ? u.spec.provides : [])));
  for (const unit of ctx.set.units.values()) {
    if (unit.kind !== 'Loader') continue;
    for (const [name, value] of Object.entries(unit.spec.environment)) {
      if (!value.startsWith('/dev/') || provided.has(value)) continue;
      checks.push(
        machine.exists(value).then((ok) =>
          ok
            ? undefined
            : unitProblem(ctx, unit, ['environment', name], 'UNIT_FILE_MISSING', `'environment.${name}' names the device ${value}, which does not exist and no Driver unit provides`, 'add it to `provides:` of the Driver that creates it, or correct the path'),
        ),
      );
    }
  }
  return (await Promise.all(checks)).filter((p): p is Problem => p !== undefined);
};
