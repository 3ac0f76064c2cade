/**
 * Kind views for code that must not load the kinds' schemas: crtosctl's daemon verbs are one small
 * bundle without zod (scripts/bundles.mjs; `crtosctl status` start-up is a product goal), so they
 * cannot import src/kinds/index.ts. A kind in the registry (src/kinds/registry.ts, which is pure)
 * is found there first, so a kind registered at run time is seen here too; the built-in views
 * below answer when the registry has not been loaded with the built-in kinds.
 */
import { findKind, kindNames } from './registry.js';
import type { KindView } from './view.js';
import { driverView } from './driver/view.js';
import { hypervisorView } from './hypervisor/view.js';
import { imageView } from './image/view.js';
import { cellView } from './cell/view.js';
import { networkView } from './network/view.js';
import { loaderView } from './loader/view.js';
import { linkView } from './link/view.js';

const BUILT_IN: ReadonlyMap<string, KindView> = new Map([
  ['Driver', driverView],
  ['Hypervisor', hypervisorView],
  ['Image', imageView],
  ['Cell', cellView],
  ['Network', networkView],
  ['Loader', loaderView],
  ['Link', linkView],
]);

export function findView(kind: string): KindView | undefined {
  return findKind(kind)?.view ?? BUILT_IN.get(kind);
}

/** The view of a kind that must exist (a unit's kind, as crtosd reported or loaded it). */
export function viewOf(kind: string): KindView {
  const view = findView(kind);
  if (!view) throw new Error(`unknown unit kind ${JSON.stringify(kind)}: not in the kind registry`);
  return view;
}

/** Every kind with a view: the registered ones, then built-ins not (yet) registered. */
export function viewKindNames(): string[] {
  const registered = kindNames();
  return [...registered, ...[...BUILT_IN.keys()].filter((k) => !registered.includes(k))];
}

/** The kind a unit id names by its suffix (`nuttx.cell` → Cell), undefined for none. */
export function kindOfUnitId(id: string): string | undefined {
  const suffix = id.slice(id.lastIndexOf('.') + 1);
  return viewKindNames().find((k) => k.toLowerCase() === suffix);
}
