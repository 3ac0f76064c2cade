/**
 * Minimal disruption: which action a change of description needs, from the kind's per-field table
 * (src/kinds/<kind>/spec.ts). Fields missing from the table default to 'restart'; a field that
 * appears or disappears counts as changed.
 */
import { definitionOf } from '../kinds/index.js';
import { canReload } from '../kinds/behaviours.js';
import { severity, type ChangeAction, type KindName } from '../kinds/spec-common.js';

export interface Classified {
  action: ChangeAction;
  /** The fields that changed, sorted. */
  fields: string[];
  /** The fields that decided the action. */
  decisive: string[];
}

export function classifyChange(kind: KindName, before: Record<string, string>, after: Record<string, string>): Classified {
  const definition = definitionOf(kind);
  const table = definition.changes;
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changed = names.filter((f) => before[f] !== after[f]);
  let action: ChangeAction = 'none';
  let decisive: string[] = [];
  for (const f of changed) {
    const a = table[f] ?? 'restart';
    if (severity(a) > severity(action)) {
      action = a;
      decisive = [f];
    } else if (a === action) decisive.push(f);
  }
  // A kind that runs nothing (an Image) has nothing to do itself: the units that use it carry its
  // contents in their own digests (a cell's `load`) and act for it.
  if (definition.inert) action = 'none';
  // Only a kind with a reload reloads in place; anywhere else the table's 'reload' means a restart.
  if (action === 'reload' && !canReload(kind)) action = 'restart';
  return { action, fields: changed, decisive: action === 'none' ? [] : decisive };
}
