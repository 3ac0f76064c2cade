import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildGraph, type Edge } from '../../src/units/graph.js';

const edge = (from: string, type: Edge['type'], to: string): Edge<string> => ({ from, to, type, origin: `${from} ${type} ${to}` });

describe('buildGraph', () => {
  it('fills inverse edges and orders requires, wants and after alike', () => {
    const g = buildGraph(['a', 'b', 'c', 'd'], [edge('b', 'requires', 'a'), edge('c', 'wants', 'a'), edge('d', 'after', 'c'), edge('a', 'before', 'd')]);
    expect(g.cycles).toEqual([]);
    expect(g.deps.get('a')).toEqual({ requires: [], wants: [], after: [], before: ['b', 'c', 'd'], requiredBy: ['b'], wantedBy: ['c'] });
    expect(g.deps.get('d')!.after).toEqual(['c', 'a']);
    expect(g.layers).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('ignores edges to ids outside the set and repeated edges', () => {
    const g = buildGraph(['a', 'b'], [edge('a', 'requires', 'ghost'), edge('b', 'requires', 'a'), edge('b', 'requires', 'a'), edge('b', 'after', 'a')]);
    expect(g.deps.get('b')).toMatchObject({ requires: ['a'], after: ['a'] });
    expect(g.layers).toEqual([['a'], ['b']]);
  });

  it('reports each cycle with every unit on it, the rest of the knot, and the edge that declared it', () => {
    const g = buildGraph(
      ['a', 'b', 'c', 'd', 'e'],
      [edge('a', 'after', 'b'), edge('b', 'after', 'c'), edge('c', 'after', 'a'), edge('d', 'after', 'a'), edge('a', 'after', 'd'), edge('e', 'requires', 'a')],
    );
    expect(g.layers).toEqual([]);
    expect(g.cycles).toHaveLength(1);
    const [cycle] = g.cycles;
    expect(cycle!.units).toEqual(['d', 'a']);
    expect(cycle!.alsoInvolved).toEqual(['b', 'c']);
    expect(cycle!.origin).toBe('d after a');
  });

  it('layers respect every ordering edge, and every unit appears once (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1), fc.constantFrom<Edge['type']>('requires', 'wants', 'after', 'before')), { maxLength: 60 })),
        ),
        ([n, raw]) => {
          const ids = Array.from({ length: n }, (_, i) => `u${i}`);
          // Keep the graph acyclic: edges only from a higher to a lower index in start order.
          const edges = raw.map(([x, y, type]) => {
            const [hi, lo] = x > y ? [x, y] : [y, x];
            if (hi === lo) return undefined;
            return type === 'before' ? edge(ids[lo]!, 'before', ids[hi]!) : edge(ids[hi]!, type, ids[lo]!);
          }).filter((e): e is Edge<string> => e !== undefined);
          const g = buildGraph(ids, edges);
          expect(g.cycles).toEqual([]);
          const layerOf = new Map<string, number>();
          g.layers.forEach((layer, i) => layer.forEach((id) => layerOf.set(id, i)));
          expect(layerOf.size).toBe(n);
          for (const id of ids) for (const before of g.deps.get(id)!.after) expect(layerOf.get(before)!).toBeLessThan(layerOf.get(id)!);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('does not overflow the stack on a 20,000-unit chain', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `u${i}`);
    const edges = ids.slice(1).map((id, i) => edge(id, 'after', ids[i]!));
    edges.push(edge('u0', 'after', 'u19999'));
    const g = buildGraph(ids, edges);
    expect(g.cycles[0]!.units).toHaveLength(20_000);
  });
});
