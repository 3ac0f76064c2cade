/**
 * `crtosctl list-dependencies [--reverse] [--all] [UNIT]`: the units a unit requires or wants (or,
 * --reverse, those that require or want it) as a tree, like systemctl's. Without a unit, one tree
 * per root: each unit nothing requires or wants (--reverse: each unit that requires or wants
 * nothing). As systemctl expands only target units unless --all, and crtos has none, the tree
 * goes one level down unless --all. A unit already on the path above is shown, not expanded again.
 */
import type { CliContext, ExitKind } from '../context.js';
import { UsageError } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './list-dependencies.options.js';
import { withClient, writeJson } from '../daemon.js';
import { byId, stateGlyph, treeGlyphs } from '../format/text.js';
import type { UnitStatus } from '../../engine/manager-api.js';

export interface DependencyNode {
  unit: string;
  activeState: string;
  children: DependencyNode[];
}

/** What the tree needs of each unit (a UnitStatus has it). */
export interface DependencyUnit {
  activeState: string;
  requires: readonly string[];
  wants: readonly string[];
  requiredBy: readonly string[];
  wantedBy: readonly string[];
}

type Graph = ReadonlyMap<string, DependencyUnit>;

const edges = (g: Graph, id: string, reverse: boolean): string[] => {
  const u = g.get(id);
  if (!u) return [];
  return [...new Set(reverse ? [...u.requiredBy, ...u.wantedBy] : [...u.requires, ...u.wants])].sort();
};

/** The roots a tree starts from when no unit is named. */
export function dependencyRoots(g: Graph, reverse: boolean): string[] {
  return [...g.keys()].filter((id) => edges(g, id, !reverse).length === 0).sort();
}

/** The tree below `root`, `depth` levels deep (Infinity: all). */
export function dependencyTree(g: Graph, root: string, reverse: boolean, depth: number, path: ReadonlySet<string> = new Set()): DependencyNode {
  const node: DependencyNode = { unit: root, activeState: g.get(root)?.activeState ?? 'inactive', children: [] };
  if (depth <= 0 || path.has(root)) return node;
  const below = new Set([...path, root]);
  node.children = edges(g, root, reverse).map((c) => dependencyTree(g, c, reverse, depth - 1, below));
  return node;
}

/**
 * systemctl's drawing: `├─`/`└─` branches when the locale is UTF-8, `|-`/`` `- `` otherwise (plain:
 * two spaces per level), a state glyph when in colour.
 */
export function renderTree(node: DependencyNode, o: { color: boolean; utf8: boolean; plain: boolean }): string[] {
  const glyph = treeGlyphs(o);
  const label = (n: DependencyNode): string => (o.color && !o.plain ? `${stateGlyph({ color: true }, n.activeState)} ${n.unit}` : n.unit);
  const lines = [label(node)];
  const walk = (children: DependencyNode[], prefix: string, depth: number): void => {
    children.forEach((c, i) => {
      const last = i === children.length - 1;
      lines.push(o.plain ? `${'  '.repeat(depth)}${label(c)}` : `${prefix}${last ? glyph.right : glyph.branch}${label(c)}`);
      walk(c.children, `${prefix}${last ? glyph.space : glyph.vertical}`, depth + 1);
    });
  };
  walk(node.children, '', 1);
  return lines;
}

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  if (args.positional.length > 1) throw new UsageError('one unit at most: crtosctl list-dependencies [UNIT]');
  const reverse = args.flags.has('reverse');
  const depth = args.flags.has('all') ? Infinity : 1;
  return withClient<ExitKind>(ctx, args, async (client) => {
    const ids = (await client.listUnits()).sort(byId).map((u) => u.id);
    const statuses = await Promise.all(ids.map((id) => client.unit(id)));
    const graph: Graph = new Map(statuses.filter((s): s is UnitStatus => s !== undefined).map((s) => [s.id, s]));
    const named = args.positional[0];
    if (named !== undefined && !graph.has(named)) {
      ctx.stderr.write(`Unit ${named} could not be found.\n`);
      return 'no-such-unit';
    }
    const trees = (named !== undefined ? [named] : dependencyRoots(graph, reverse)).map((r) => dependencyTree(graph, r, reverse, depth));
    if (args.flags.has('json')) writeJson(ctx, named !== undefined ? trees[0] : trees);
    else ctx.stdout.write(trees.flatMap((t) => renderTree(t, { color: ctx.color, utf8: ctx.utf8, plain: args.flags.has('plain') })).map((l) => `${l}\n`).join(''));
    return 'ok';
  });
}
