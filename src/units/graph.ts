/**
 * The dependency graph of a unit set, on unit ids only (pure, no positions): the declared edges
 * with their inverses, ordering cycles, and the start order in layers.
 *
 * Ordering: unlike systemd, `requires` and `wants` also order (a unit starts after what it pulls
 * in), because every dependency crtosd knows is "must exist first": a loader cannot connect to a
 * cell that has not booted. References (`driver:`, `hypervisor:`, `image:`) arrive here as requires.
 */
import type { UnitDependencies } from './types.js';

export type EdgeType = 'requires' | 'wants' | 'after' | 'before';

export interface Edge<Origin = unknown> {
  /** The unit that declares the edge. */
  from: string;
  to: string;
  type: EdgeType;
  /** Where it was declared, handed back with cycles. */
  origin: Origin;
}

export interface Cycle<Origin = unknown> {
  /** Units in order, each starting after the next; the last starts after the first again. */
  units: string[];
  /** Units in the same strongly connected component that are not on this cycle. */
  alsoInvolved: string[];
  /** Declaration of the edge between units[0] and units[1]. */
  origin: Origin;
}

export interface Graph<Origin = unknown> {
  deps: Map<string, UnitDependencies>;
  cycles: Cycle<Origin>[];
  /** Start order in layers; empty when there are cycles. */
  layers: string[][];
}

function emptyDeps(): UnitDependencies {
  return { requires: [], wants: [], after: [], before: [], requiredBy: [], wantedBy: [] };
}

/** Appends unless present; the lists are short, and insertion order keeps output deterministic. */
function addOnce(list: string[], id: string, seen: Set<string>, key: string): void {
  if (seen.has(key)) return;
  seen.add(key);
  list.push(id);
}

/**
 * `ids` in their deterministic order; edges whose target is not in `ids` are ignored (the loader
 * reports those separately).
 */
export function buildGraph<Origin>(ids: readonly string[], edges: readonly Edge<Origin>[]): Graph<Origin> {
  const index = new Map<string, number>();
  ids.forEach((id, i) => index.set(id, i));
  const deps = new Map<string, UnitDependencies>();
  for (const id of ids) deps.set(id, emptyDeps());
  const seen = new Set<string>();
  // Ordering edges as successor lists: succ[u] holds v when v starts after u.
  const succ: number[][] = ids.map(() => []);
  const orderOrigin = new Map<string, Origin>();

  const order = (first: string, then: string, origin: Origin): void => {
    const key = `${first}\0${then}`;
    if (!orderOrigin.has(key)) {
      orderOrigin.set(key, origin);
      succ[index.get(first)!]!.push(index.get(then)!);
    }
    addOnce(deps.get(then)!.after, first, seen, `a\0${key}`);
    addOnce(deps.get(first)!.before, then, seen, `b\0${key}`);
  };

  for (const edge of edges) {
    if (!index.has(edge.from) || !index.has(edge.to)) continue;
    const from = deps.get(edge.from)!;
    const to = deps.get(edge.to)!;
    const key = `${edge.from}\0${edge.to}`;
    switch (edge.type) {
      case 'requires':
        addOnce(from.requires, edge.to, seen, `r\0${key}`);
        addOnce(to.requiredBy, edge.from, seen, `rb\0${key}`);
        order(edge.to, edge.from, edge.origin);
        break;
      case 'wants':
        addOnce(from.wants, edge.to, seen, `w\0${key}`);
        addOnce(to.wantedBy, edge.from, seen, `wb\0${key}`);
        order(edge.to, edge.from, edge.origin);
        break;
      case 'after':
        order(edge.to, edge.from, edge.origin);
        break;
      case 'before':
        order(edge.from, edge.to, edge.origin);
        break;
    }
  }

  const components = stronglyConnected(succ);
  const cycles: Cycle<Origin>[] = [];
  for (const component of components) {
    const selfLoop = component.length === 1 && succ[component[0]!]!.includes(component[0]!);
    if (component.length < 2 && !selfLoop) continue;
    const members = new Set(component);
    const start = Math.min(...component);
    const path = shortestCycle(start, succ, members);
    // Present it as "each starts after the next": walk the successor cycle backwards.
    const units = path.map((i) => ids[i]!).reverse();
    const onCycle = new Set(units);
    const first = units[0]!;
    const second = units[1] ?? first;
    cycles.push({
      units,
      alsoInvolved: component.map((i) => ids[i]!).filter((id) => !onCycle.has(id)).sort((a, b) => index.get(a)! - index.get(b)!),
      origin: orderOrigin.get(`${second}\0${first}`)!,
    });
  }
  cycles.sort((a, b) => index.get(a.units[0]!)! - index.get(b.units[0]!)!);
  return { deps, cycles, layers: cycles.length ? [] : layersOf(ids, succ) };
}

/** Kahn's algorithm, one layer at a time; units keep their set order inside a layer. */
function layersOf(ids: readonly string[], succ: number[][]): string[][] {
  const indegree = new Array<number>(ids.length).fill(0);
  for (const targets of succ) for (const t of targets) indegree[t]!++;
  let current: number[] = [];
  for (let i = 0; i < ids.length; i++) if (indegree[i] === 0) current.push(i);
  const layers: string[][] = [];
  while (current.length) {
    layers.push(current.map((i) => ids[i]!));
    const next: number[] = [];
    for (const u of current) for (const v of succ[u]!) if (--indegree[v]! === 0) next.push(v);
    next.sort((a, b) => a - b);
    current = next;
  }
  return layers;
}

/** Tarjan's algorithm without recursion (10,000-unit chains must not overflow the stack). */
function stronglyConnected(succ: number[][]): number[][] {
  const n = succ.length;
  const indexOf = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (indexOf[root] !== -1) continue;
    const work: Array<[node: number, edge: number]> = [[root, 0]];
    indexOf[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (work.length) {
      const frame = work[work.length - 1]!;
      const [v, e] = frame;
      const targets = succ[v]!;
      if (e < targets.length) {
        frame[1]++;
        const w = targets[e]!;
        if (indexOf[w] === -1) {
          indexOf[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = true;
          work.push([w, 0]);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, indexOf[w]!);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]]!, low[v]!);
      if (low[v] === indexOf[v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component.push(w);
        } while (w !== v);
        components.push(component);
      }
    }
  }
  return components;
}

/** Breadth-first from `start` back to itself inside one component: [start, ..., last]. */
function shortestCycle(start: number, succ: number[][], members: Set<number>): number[] {
  const previous = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head]!;
    for (const v of succ[u]!) {
      if (!members.has(v)) continue;
      if (v === start) {
        const path = [u];
        while (path[path.length - 1] !== start) path.push(previous.get(path[path.length - 1]!)!);
        return path.reverse();
      }
      if (!previous.has(v)) {
        previous.set(v, u);
        queue.push(v);
      }
    }
  }
  return [start];
}
