/**
 * References and dependency lists → graph edges, and a problem for each one naming a unit that does
 * not exist: an error for references, requires and wants; a warning for after and before, which
 * only order. The hint names the near miss, or the same name under another kind.
 */
import { definitionOf, kindNames, kindOfSuffix, unitId, type KindName } from '../kinds/index.js';
import type { ValuePath } from './yaml-source.js';
import { isMapping } from './merge.js';
import { closest } from './did-you-mean.js';
import { formatPath } from './issues.js';
import type { Edge } from './graph.js';
import type { BuildContext, Candidate } from './build-context.js';
import { excerpt } from './excerpt.js';

export type EdgeOrigin = { candidate: Candidate; path: ValuePath };

const DEPENDENCY_FIELDS = ['requires', 'wants', 'after', 'before'] as const;

/** `load.0.image` → ['load', 0, 'image'] */
export function fieldPath(field: string): ValuePath {
  return field.split('.').map((step) => (/^\d+$/.test(step) ? Number(step) : step));
}

export function splitId(id: string): [name: string, kind: KindName | undefined] {
  const dot = id.lastIndexOf('.');
  const suffix = id.slice(dot + 1);
  return [id.slice(0, dot), kindOfSuffix(suffix)];
}

export function collectEdges(ctx: BuildContext, candidates: ReadonlyMap<string, Candidate>): Edge<EdgeOrigin>[] {
  const namesByKind = new Map<KindName, string[]>();
  for (const c of candidates.values()) {
    const names = namesByKind.get(c.kind);
    if (names) names.push(c.name);
    else namesByKind.set(c.kind, [c.name]);
  }

  const hintFor = (target: string): string => {
    const [name, kind] = splitId(target);
    const sameKind = kind ? (namesByKind.get(kind) ?? []) : [];
    const near = closest(name, sameKind);
    const otherKinds = kindNames().filter((k) => k !== kind && candidates.has(unitId(name, k)));
    let hint: string;
    if (near !== undefined) hint = `did you mean '${unitId(near, kind!)}'?`;
    else if (otherKinds.length) hint = `there is ${otherKinds.map((k) => `'${unitId(name, k)}'`).join(', ')}, but this needs ${/^[AEIOU]/.test(kind ?? '') ? 'an' : 'a'} ${kind}`;
    else hint = sameKind.length ? `${kind} units: ${sameKind.map((n) => unitId(n, kind!)).join(', ')}` : `no ${kind} unit is defined`;
    const lost = ctx.unreadable;
    if (lost.length) hint += `; or it is the unit at ${lost[0]}${lost.length > 1 ? ` (or ${lost.length - 1} more)` : ''} that has an error above`;
    return hint;
  };

  const missing = (c: Candidate, path: ValuePath, target: string, ordersOnly: boolean): void => {
    const field = formatPath(path);
    ctx.report(
      ordersOnly ? 'UNIT_UNKNOWN_ORDER_TARGET' : 'UNIT_UNKNOWN_REFERENCE',
      ordersOnly ? `'${field}' orders against '${excerpt(target)}', which does not exist` : `'${field}' refers to '${excerpt(target)}', which does not exist`,
      ctx.locateIn(c, path),
      ordersOnly ? { severity: 'warning', unit: c.id, hint: hintFor(target) } : { unit: c.id, hint: hintFor(target) },
    );
  };

  const edges: Edge<EdgeOrigin>[] = [];
  for (const c of candidates.values()) {
    if (c.unit) {
      const spec = c.unit.spec;
      for (const ref of definitionOf(c.kind).references(spec)) {
        const path = fieldPath(ref.field);
        if (!candidates.has(ref.target)) missing(c, path, ref.target, false);
        else if (ref.dependency !== false) edges.push({ from: c.id, to: ref.target, type: 'requires', origin: { candidate: c, path } });
      }
      for (const type of DEPENDENCY_FIELDS) {
        spec[type].forEach((target, i) => {
          const path: ValuePath = [type, i];
          if (candidates.has(target)) edges.push({ from: c.id, to: target, type, origin: { candidate: c, path } });
          else missing(c, path, target, type === 'after' || type === 'before');
        });
      }
    } else if (isMapping(c.merged)) {
      // A unit that failed its schema still gets its lists checked, so one run shows every error.
      for (const type of DEPENDENCY_FIELDS) {
        const list = c.merged[type];
        if (!Array.isArray(list)) continue;
        list.forEach((target, i) => {
          if (typeof target === 'string' && splitId(target)[1] !== undefined && !candidates.has(target)) {
            missing(c, [type, i], target, type === 'after' || type === 'before');
          }
        });
      }
    }
  }
  return edges;
}
