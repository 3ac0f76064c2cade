/** The tree of list-dependencies from a dependency graph: roots, depth, cycles, drawing. */
import { describe, expect, test } from 'vitest';
import { dependencyRoots, dependencyTree, renderTree } from '../../../src/cli/verbs/list-dependencies.js';

type Node = { id: string; activeState: string; requires: string[]; wants: string[]; requiredBy: string[]; wantedBy: string[] };
/** A graph from forward edges (requires; `~` marks a wants), with the reverse edges filled in. */
function graph(edges: Record<string, string[]>, states: Record<string, string> = {}): Map<string, Node> {
  const g = new Map<string, Node>();
  const node = (id: string): Node => g.get(id) ?? (g.set(id, { id, activeState: states[id] ?? 'active', requires: [], wants: [], requiredBy: [], wantedBy: [] }), g.get(id)!);
  for (const [id, deps] of Object.entries(edges)) {
    node(id);
    for (const d of deps) {
      const want = d.startsWith('~');
      const to = want ? d.slice(1) : d;
      (want ? node(id).wants : node(id).requires).push(to);
      (want ? node(to).wantedBy : node(to).requiredBy).push(id);
    }
  }
  return g;
}

describe('list-dependencies trees', () => {
  const g = graph({ 'app.loader': ['os.cell', '~net.network'], 'os.cell': ['hv.hypervisor'], 'net.network': ['hv.hypervisor'], 'hv.hypervisor': [], 'spare.driver': [] });

  test('roots: units nothing requires or wants; reversed: units that require and want nothing', () => {
    expect(dependencyRoots(g, false)).toEqual(['app.loader', 'spare.driver']);
    expect(dependencyRoots(g, true)).toEqual(['hv.hypervisor', 'spare.driver']);
  });

  test('requires and wants both count, sorted; depth 1 stops below the root; reversed walks the other way', () => {
    expect(renderTree(dependencyTree(g, 'app.loader', false, 1), { color: false, utf8: true, plain: false })).toEqual(['app.loader', '├─net.network', '└─os.cell']);
    expect(renderTree(dependencyTree(g, 'hv.hypervisor', true, Infinity), { color: false, utf8: true, plain: false })).toEqual([
      'hv.hypervisor',
      '├─net.network',
      '│ └─app.loader',
      '└─os.cell',
      '  └─app.loader',
    ]);
  });

  test('in a locale that is not UTF-8 the branches are ASCII, as systemd draws them there', () => {
    expect(renderTree(dependencyTree(g, 'hv.hypervisor', true, Infinity), { color: true, utf8: false, plain: false }).slice(1)).toEqual([
      '|-\x1b[1;32m●\x1b[0m net.network',
      '| `-\x1b[1;32m●\x1b[0m app.loader',
      '`-\x1b[1;32m●\x1b[0m os.cell',
      '  `-\x1b[1;32m●\x1b[0m app.loader',
    ]);
  });

  test('a cycle shows the unit again without expanding it again', () => {
    const loop = graph({ 'a.cell': ['b.cell'], 'b.cell': ['a.cell'] });
    expect(renderTree(dependencyTree(loop, 'a.cell', false, Infinity), { color: false, utf8: true, plain: true })).toEqual(['a.cell', '  b.cell', '    a.cell']);
  });

  test('in colour each unit has its state glyph; --plain has none', () => {
    const s = graph({ 'app.loader': ['os.cell'] }, { 'app.loader': 'failed', 'os.cell': 'inactive' });
    expect(renderTree(dependencyTree(s, 'app.loader', false, 1), { color: true, utf8: true, plain: false })).toEqual(['\x1b[1;31m×\x1b[0m app.loader', '└─○ os.cell']);
    expect(renderTree(dependencyTree(s, 'app.loader', false, 1), { color: true, utf8: true, plain: true })).toEqual(['app.loader', '  os.cell']);
  });
});
