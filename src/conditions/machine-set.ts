/**
 * A unit set on one machine: which units apply there (their conditions hold and nothing they
 * require is skipped), with their specifiers expanded to that machine's facts. Pure; the paths
 * `pathExists` conditions name are looked up by the caller first (conditionPaths), which may not
 * know some (a fleet machine known only by its facts file): those conditions are taken as met,
 * and the units that apply with them are listed in `undecided`.
 */
import type { Unit, UnitSet } from '../units/types.js';
import { definitionOf } from '../kinds/index.js';
import type { MachineIdentity } from '../facts/types.js';
import { conditionText, firstFailedCondition, undecidedConditions, type PathExists } from './evaluate.js';
import type { Conditions } from './schema.js';
import { expandValue, machineSpecifiers } from './specifiers.js';

/** Why a unit does not run on this machine: its own condition, or one of a unit it requires. */
export interface Skip {
  subState: 'condition-failed' | 'skipped';
  /** `condition failed: board "…" (board is "…")`, or `skipped: requires rtos.cell, whose condition failed`. */
  text: string;
}

export interface MachineSet {
  /** Every unit, those that apply with their specifiers expanded: what the daemon lists. */
  set: UnitSet;
  /** Only the units that apply: what is checked against the machine and started. */
  applied: UnitSet;
  skipped: ReadonlyMap<string, Skip>;
  /** Units that apply only because `pathExists` conditions that could not be decided were taken as met: id → those values as written. */
  undecided: ReadonlyMap<string, string[]>;
}

const conditionsOf = (u: Unit): Conditions | undefined => (u.spec as { conditions?: Conditions }).conditions;

/** Every path a `pathExists` condition of the set names (without its `!`). */
export function conditionPaths(set: UnitSet): string[] {
  const out = new Set<string>();
  for (const u of set.units.values()) for (const p of conditionsOf(u)?.pathExists ?? []) out.add(p.replace(/^!/, ''));
  return [...out];
}

/** `exists`: what is known of the paths conditionPaths named; a path it lacks is not known. */
export function unitsOnMachine(set: UnitSet, facts: MachineIdentity, exists: ReadonlyMap<string, boolean> = new Map()): MachineSet {
  const pathExists: PathExists = (p) => exists.get(p);
  const skipped = new Map<string, Skip>();
  for (const unit of set.units.values()) {
    const failed = firstFailedCondition(conditionsOf(unit), facts, pathExists);
    if (failed) skipped.set(unit.id, { subState: 'condition-failed', text: conditionText(failed) });
  }
  // A unit that requires a skipped unit is skipped too (requirements may chain: until nothing changes).
  for (let changed = skipped.size > 0; changed; ) {
    changed = false;
    for (const id of set.units.keys()) {
      if (skipped.has(id)) continue;
      const on = set.deps.get(id)?.requires.find((r) => skipped.has(r));
      if (on === undefined) continue;
      const why = skipped.get(on)!.subState === 'condition-failed' ? 'whose condition failed' : 'which is skipped';
      skipped.set(id, { subState: 'skipped', text: `skipped: requires ${on}, ${why}` });
      changed = true;
    }
  }
  const undecided = new Map<string, string[]>();
  for (const unit of set.units.values()) {
    if (skipped.has(unit.id)) continue;
    const unknown = undecidedConditions(conditionsOf(unit), pathExists);
    if (unknown.length > 0) undecided.set(unit.id, unknown);
  }
  const machine = machineSpecifiers(facts);
  const units = new Map<string, Unit>();
  for (const [id, unit] of set.units) {
    if (skipped.has(id)) {
      units.set(id, unit);
      continue;
    }
    const references = new Set(definitionOf(unit.kind).references(unit.spec as never).map((r) => r.field));
    const spec = expandValue(unit.spec, { ...machine, n: id, N: unit.name }, references);
    units.set(id, spec === unit.spec ? unit : { ...unit, spec });
  }
  const full: UnitSet = { ...set, units };
  if (skipped.size === 0) return { set: full, applied: full, skipped, undecided };
  const applied: UnitSet = {
    units: new Map([...units].filter(([id]) => !skipped.has(id))),
    deps: new Map([...set.deps].filter(([id]) => !skipped.has(id))),
    layers: set.layers.map((layer) => layer.filter((id) => !skipped.has(id))).filter((layer) => layer.length > 0),
    directories: set.directories,
  };
  return { set: full, applied, skipped, undecided };
}
