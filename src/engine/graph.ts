/**
 * Dependency-graph questions the planner asks of a UnitSet. The unit graph (src/units/graph.ts)
 * already folds requires, wants and other units' `before` into each unit's `after`, and keeps the
 * inverse `requiredBy`: these read those lists, never rebuild them.
 */
import type { UnitSet } from '../units/types.js';

/** Units that must be up before `id` starts (and go down after it stops). */
export function orderPredecessors(set: UnitSet, id: string): readonly string[] {
  return set.deps.get(id)?.after ?? [];
}

/** Every unit that requires `id`, directly or through other units (not `id` itself). */
export function requiredByClosure(set: UnitSet, id: string): string[] {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop()!;
    for (const other of set.deps.get(cur)?.requiredBy ?? []) {
      if (seen.has(other) || other === id) continue;
      seen.add(other);
      stack.push(other);
    }
  }
  return [...seen];
}
