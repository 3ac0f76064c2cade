/**
 * The kind registry: every unit kind crtosd knows, by name. The unit loader, planner, engine, D-Bus
 * service, crtosctl and schema generation all look kinds up here; a kind's folder is the only place
 * that knows what the kind is. Built-in kinds are registered by src/kinds/index.ts.
 */
import type { KindDefinition } from './spec-common.js';
import type { KindView } from './view.js';

/** Everything about a kind that is pure (no engine code): what crtosctl and `validate` need. */
export interface KindModule {
  definition: KindDefinition;
  view: KindView;
}

const table = new Map<string, KindModule>();

export function registerKind(m: KindModule): void {
  const kind = m.definition.kind;
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind)) throw new Error(`kind name ${JSON.stringify(kind)} must be a capitalised word`);
  const clash = [...table.keys()].find((k) => k.toLowerCase() === kind.toLowerCase());
  if (clash !== undefined) throw new Error(`kind ${kind} is already registered${clash === kind ? '' : ` as ${clash}`}`);
  table.set(kind, m);
}

/** The kinds, in registration order. */
export function kindNames(): string[] {
  return [...table.keys()];
}

export function findKind(kind: string): KindModule | undefined {
  return table.get(kind);
}

/** The module of a kind that must exist (a unit's kind was checked when the set was loaded). */
export function kindModule(kind: string): KindModule {
  const m = table.get(kind);
  if (!m) throw new Error(`unknown unit kind ${JSON.stringify(kind)}: not in the kind registry`);
  return m;
}

export function definitionOf(kind: string): KindDefinition {
  return kindModule(kind).definition;
}

/** The kind whose unit-id suffix this is (`cell` → Cell). */
export function kindOfSuffix(suffix: string): string | undefined {
  return kindNames().find((k) => k.toLowerCase() === suffix);
}
