/**
 * Checks on a composed YAML document before it becomes plain data (toJS), each with the offset of
 * the node at fault:
 *
 * - a key given twice in one mapping. The yaml package can check this itself (`uniqueKeys`), but
 *   compares each key with every earlier one: a mapping of 50,000 keys takes seconds. A set here is
 *   linear.
 * - nesting deeper than MAX_DEPTH. The token check (yaml-stream-check.ts) counts collections as
 *   written; composing can add a level (`[a: 1]` is a sequence holding a mapping), and an alias
 *   puts its anchor's whole value at the alias's depth.
 * - aliases: one without an anchor before it, one inside the value its own anchor marks (toJS
 *   would build a value that contains itself, and every later walk over it would not end), and
 *   aliases repeating more than MAX_ALIASED_VALUES values per file ("billion laughs": aliases of
 *   aliases, each multiplying the data). toJS shares an anchor's value between its aliases, but
 *   the schemas, merges and the engine's snapshots walk every repetition.
 *
 * Recursion here follows the nesting, which the token check has already bounded.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node as YamlNode } from 'yaml';
import { MAX_ALIASED_VALUES, MAX_DEPTH } from './limits.js';
import { tooDeep, type YamlFinding } from './yaml-stream-check.js';

/** What aliases of one file have repeated so far, shared by the file's documents. */
export interface AliasBudget {
  repeated: number;
}

interface Shape {
  /** Collections nested in the value, itself included (0 for a scalar). */
  height: number;
  /** Values in it, aliases expanded. */
  size: number;
}

class Found extends Error {
  constructor(readonly finding: YamlFinding) {
    super(finding.message);
  }
}

const offsetOf = (node: unknown, fallback: number): number => (node as YamlNode | null)?.range?.[0] ?? fallback;

/** The first problem of `doc` in text order, or undefined. */
export function checkDocument(doc: Document.Parsed, budget: AliasBudget): YamlFinding | undefined {
  // Anchor name → the node that carries it, and its shape once the node is complete.
  const anchors = new Map<string, { node: unknown; shape?: Shape }>();

  const visit = (node: unknown, depth: number): Shape => {
    if (isAlias(node)) {
      const anchor = anchors.get(node.source);
      const at = offsetOf(node, 0);
      if (!anchor) throw new Found({ code: 'UNIT_YAML_SYNTAX', offset: at, message: `alias *${node.source} has no anchor &${node.source} before it`, hint: `put &${node.source} on a value earlier in the same document` });
      if (!anchor.shape) throw new Found({ code: 'UNIT_YAML_LIMIT', offset: at, message: `alias *${node.source} is inside the value its anchor &${node.source} marks, which would contain itself`, hint: 'an alias can only repeat a value that ends before it' });
      if (depth - 1 + anchor.shape.height > MAX_DEPTH) throw new Found(tooDeep(at));
      budget.repeated += anchor.shape.size;
      if (budget.repeated > MAX_ALIASED_VALUES) {
        throw new Found({
          code: 'UNIT_YAML_LIMIT',
          offset: at,
          message: `aliases in this file repeat more than ${MAX_ALIASED_VALUES} values`,
          hint: 'aliases of aliases multiply the data they repeat; write the values out, or share fewer of them',
        });
      }
      return anchor.shape;
    }
    const anchorName = (node as { anchor?: string } | null)?.anchor;
    const entry: { node: unknown; shape?: Shape } | undefined = anchorName === undefined ? undefined : { node };
    if (anchorName !== undefined) anchors.set(anchorName, entry!);
    const shape = isMap(node) || isSeq(node) ? visitCollection(node, depth) : { height: 0, size: 1 };
    // A later anchor of the same name, inside this node, is the one that later aliases mean.
    if (entry && anchors.get(anchorName!) === entry) entry.shape = shape;
    return shape;
  };

  const visitCollection = (node: YamlNode & { items: unknown[] }, depth: number): Shape => {
    if (depth > MAX_DEPTH) throw new Found(tooDeep(offsetOf(node, 0)));
    let height = 0;
    let size = 1;
    const keys = isMap(node) ? new Set<string>() : undefined;
    for (const item of node.items) {
      const parts = isPair(item) ? [item.key, item.value] : [item];
      if (keys && isPair(item) && isScalar(item.key)) {
        // As text, since plain data's keys are text: `1:` and `"1":` would be the same field.
        const id = String(item.key.value);
        if (keys.has(id)) throw new Found({ code: 'UNIT_DUPLICATE_KEY', offset: offsetOf(item.key, 0), message: 'this key appears twice in the same mapping', hint: 'remove one of the two entries' });
        keys.add(id);
      }
      for (const part of parts) {
        if (part === null || part === undefined) continue;
        const inner = visit(part, depth + 1);
        height = Math.max(height, inner.height);
        size += inner.size;
      }
    }
    return { height: height + 1, size };
  };

  try {
    if (doc.contents !== null) visit(doc.contents, 1);
    return undefined;
  } catch (e) {
    if (e instanceof Found) return e.finding;
    throw e;
  }
}
