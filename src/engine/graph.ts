/** Dependency-graph questions the planner and the status builder ask of a UnitSet. */
import type { UnitSet } from '../units/types.js';

/** Units that must be up before `id` starts (and go down after it stops). */
export function orderPredecessors(set: UnitSet, id: string): string[] {
  const d = set.deps.get(id);
  const preds = new Set<string>();
  if (d) for (const p of [...d.after, ...d.requires, ...d.wants]) preds.add(p);
  // `before` edges of other units point at us.
  for (const [other, od] of set.deps) if (od.before.includes(id)) preds.add(other);
  preds.delete(id);
  return [...preds].filter((p) => set.units.has(p));
}

/** Every unit that requires `id`, directly or through other units (not `id` itself). */
export function requiredByClosure(set: UnitSet, id: string): string[] {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop()!;
    for (const [other, d] of set.deps) {
      if (d.requires.includes(cur) && !seen.has(other) && other !== id) {
        seen.add(other);
        stack.push(other);
      }
    }
  }
  return [...seen];
}

/** Units whose requirements (transitively) include `id`'s requirement chain, for failure propagation. */
export function requires(set: UnitSet, id: string): string[] {
  return (set.deps.get(id)?.requires ?? []).filter((r) => set.units.has(r));
}
