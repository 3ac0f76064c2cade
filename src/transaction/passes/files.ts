/**
 * Every machine file a unit names exists (a .cell file, an image, a module, a loader's program),
 * and every device node a unit is handed (a loader's environment) exists or is provided by a unit
 * of the set (a driver's `provides`): a start that would fail on a missing file is refused before
 * anything is touched. The kinds say which files and nodes they name (their definitions).
 */
import { definitionOf, kindNames } from '../../kinds/index.js';
import type { Problem } from '../../errors/problem.js';
import { fieldPath, FILE_HINT, unitProblem, type Pass } from '../context.js';

export const filesPass: Pass = async (ctx) => {
  const machine = ctx.machine;
  if (!machine) return [];
  const checks: Promise<Problem | undefined>[] = [];
  for (const unit of ctx.set.units.values()) {
    for (const ref of definitionOf(unit.kind).files(unit.spec as never)) {
      // A program name without a path is looked up on PATH when it starts.
      if (!ref.path.startsWith('/')) continue;
      checks.push(
        machine.exists(ref.path).then((ok) =>
          ok ? undefined : unitProblem(ctx, unit, fieldPath(ref.field), 'UNIT_FILE_MISSING', `'${ref.field}' names ${ref.path}, which does not exist`, FILE_HINT),
        ),
      );
    }
  }
  const provided = new Set([...ctx.set.units.values()].flatMap((u) => definitionOf(u.kind).provides?.(u.spec as never) ?? []));
  // The kinds whose units provide device nodes, as the messages name them ("Driver").
  const providers = kindNames().filter((k) => definitionOf(k).provides !== undefined);
  const by = providers.join(' or ') || 'other';
  for (const unit of ctx.set.units.values()) {
    for (const node of definitionOf(unit.kind).deviceNodes?.(unit.spec as never) ?? []) {
      if (provided.has(node.path)) continue;
      checks.push(
        machine.exists(node.path).then((ok) =>
          ok
            ? undefined
            : unitProblem(ctx, unit, fieldPath(node.field), 'UNIT_FILE_MISSING', `'${node.field}' names the device ${node.path}, which does not exist and no ${by} unit provides`, `add it to \`provides:\` of the ${by} that creates it, or correct the path`),
        ),
      );
    }
  }
  return (await Promise.all(checks)).filter((p): p is Problem => p !== undefined);
};
