/**
 * Unit file text → plain document values, and positions back from a value path to file:line:col.
 *
 * Reading takes the fast path (fast-yaml.ts) when the text is in the plain subset and falls back to
 * the `yaml` package otherwise, which also reports syntax errors. Positions are needed only for
 * problems, which are rare, so SourcePositions parses a file with the `yaml` package (keeping every
 * node's range) only when the first position in that file is asked for.
 */
import { Composer, Parser, LineCounter, type CST, isMap, isSeq, isPair, isScalar, isCollection, type Document, type Node as YamlNode, type Pair } from 'yaml';
import type { Problem } from '../errors/problem.js';
import { fastParseSteps, integer } from './fast-yaml.js';
import { runSteps } from '../lib/turns.js';
import { checkTokens, type YamlFinding } from './yaml-stream-check.js';
import { checkDocument, type AliasBudget } from './yaml-document-check.js';

export type ValuePath = ReadonlyArray<string | number>;

export interface SourceDocument {
  file: string;
  /** 0-based index of the document in its file, as YAML counts documents (`---`). */
  index: number;
  /** The document as plain data; null for an empty document. */
  value: unknown;
  /** 1-based position of the document's first content. */
  line: number;
  column: number;
}

export interface ParsedSource {
  file: string;
  /** Documents that parsed; documents with syntax errors are left out (their problems say why). */
  documents: SourceDocument[];
  problems: Problem[];
}

export interface Position {
  line: number;
  column: number;
}

// Duplicate keys are found by checkDocument, in linear time (the package's own check is quadratic).
const YAML_OPTIONS = { intAsBigInt: true, prettyErrors: false, uniqueKeys: false } as const;

/**
 * Integers arrive as bigint (so 64-bit addresses keep every digit); give back numbers where exact.
 * Converts in place; `seen` skips a value an alias shares, already converted.
 */
function plainData(value: unknown, seen = new Set<object>()): unknown {
  if (typeof value === 'bigint') return integer(value);
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = plainData(value[i], seen);
    return value;
  }
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plainData(v, seen)]));
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = plainData(record[key], seen);
  return value;
}

/** The documents of `text`, or the limit it goes beyond (then none: composing it is unsafe). */
function composeDocuments(text: string, lineCounter: LineCounter): { docs: Document.Parsed[]; finding?: YamlFinding } {
  const tokens: CST.Token[] = [];
  const finding = checkTokens(new Parser(lineCounter.addNewLine).parse(text), tokens);
  if (finding) return { docs: [], finding };
  return { docs: [...new Composer(YAML_OPTIONS).compose(tokens)] as Document.Parsed[] };
}

function findingProblem(file: string, finding: YamlFinding, lineCounter: LineCounter): Problem {
  const { line, col } = lineCounter.linePos(finding.offset);
  return { code: finding.code, message: finding.message, file, line, column: col, hint: finding.hint };
}

/** Parse one file's text. Never throws. */
export function parseSource(file: string, text: string): ParsedSource {
  return runSteps(parseSourceSteps(file, text));
}

/**
 * parseSource's work, yielding after each document the fast reader took (a file the `yaml`
 * package has to parse, with tabs or beyond the subset, is parsed in one step).
 */
export function* parseSourceSteps(file: string, text: string): Generator<void, ParsedSource, void> {
  const fast = yield* fastParseSteps(text);
  if (fast) return { file, documents: fast.map((doc, index) => ({ file, index, ...doc })), problems: [] };

  const lineCounter = new LineCounter();
  const { docs, finding } = composeDocuments(text, lineCounter);
  if (finding) return { file, documents: [], problems: [findingProblem(file, finding, lineCounter)] };
  const documents: SourceDocument[] = [];
  const problems: Problem[] = [];
  const budget: AliasBudget = { repeated: 0 };
  docs.forEach((doc, index) => {
    const first = doc.errors[0];
    if (first) {
      // Later errors of one document are mostly consequences of the first; report that one.
      const { line, col } = lineCounter.linePos(first.pos[0]);
      const duplicate = first.code === 'DUPLICATE_KEY';
      problems.push({
        code: duplicate ? 'UNIT_DUPLICATE_KEY' : 'UNIT_YAML_SYNTAX',
        message: duplicate ? 'this key appears twice in the same mapping' : yamlMessage(first.message),
        file,
        line,
        column: col,
        hint: duplicate ? 'remove one of the two entries' : 'check indentation, brackets and quotes around this position',
      });
      return;
    }
    const structural = checkDocument(doc, budget);
    if (structural) {
      problems.push(findingProblem(file, structural, lineCounter));
      return;
    }
    for (const warning of doc.warnings) {
      const { line, col } = lineCounter.linePos(warning.pos[0]);
      problems.push({ code: 'UNIT_YAML_SYNTAX', severity: 'warning', message: yamlMessage(warning.message), file, line, column: col });
    }
    let value: unknown;
    try {
      // checkDocument has bounded what aliases repeat; the package's own count is quadratic.
      value = plainData(doc.toJS({ maxAliasCount: -1 }));
    } catch (e) {
      const { line, col } = lineCounter.linePos(doc.range[0]);
      problems.push({ code: 'UNIT_YAML_SYNTAX', message: yamlMessage(e instanceof Error ? e.message : String(e)), file, line, column: col });
      return;
    }
    const contents = doc.contents as YamlNode | null;
    const start = lineCounter.linePos(contents?.range?.[0] ?? doc.range[0]);
    documents.push({ file, index, value, line: start.line, column: start.col });
  });
  return { file, documents, problems };
}

/** The yaml package's message without its own position suffix and code excerpt. */
function yamlMessage(message: string): string {
  const firstLine = message.split('\n')[0] ?? message;
  return firstLine.replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
}

/** Finds where a value path of a document sits in its file. Parses lazily, once. */
export class SourcePositions {
  private docs: Document.Parsed[] | undefined;
  private readonly lineCounter = new LineCounter();

  constructor(readonly file: string, private readonly text: string) {}

  private document(index: number): Document.Parsed | undefined {
    // A file beyond the limits has no documents, so no positions in it are asked for.
    this.docs ??= composeDocuments(this.text, this.lineCounter).docs;
    return this.docs[index];
  }

  private at(offset: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  private readonly pairIndex = new WeakMap<object, Map<string, Pair>>();

  /**
   * A mapping's entries by key, built once per mapping: a unit with thousands of unknown fields has
   * a problem for each, and searching the mapping for each would take quadratic time.
   */
  private pairs(node: YamlNode & { items: unknown[] }): Map<string, Pair> {
    let index = this.pairIndex.get(node);
    if (!index) {
      index = new Map();
      for (const p of node.items) if (isPair(p) && isScalar(p.key) && !index.has(String(p.key.value))) index.set(String(p.key.value), p);
      this.pairIndex.set(node, index);
    }
    return index;
  }

  /** Where the document starts (its first content). */
  documentStart(index: number): Position {
    const doc = this.document(index);
    if (!doc) return { line: 1, column: 1 };
    const contents = doc.contents as YamlNode | null;
    return this.at(contents?.range?.[0] ?? doc.range[0]);
  }

  /**
   * The value at `path` (or, with `key`, the key of its last step). A path that does not exist
   * (a missing field) resolves to the deepest collection on the way, so a missing field points at
   * the mapping that lacks it.
   */
  locate(index: number, path: ValuePath, key = false): Position {
    const doc = this.document(index);
    if (!doc) return { line: 1, column: 1 };
    let node = doc.contents as YamlNode | null;
    let offset = node?.range?.[0] ?? doc.range[0];
    for (let i = 0; i < path.length; i++) {
      const step = path[i]!;
      const last = i === path.length - 1;
      let next: YamlNode | null | undefined;
      let keyOffset: number | undefined;
      if (isMap(node)) {
        const pair = this.pairs(node).get(String(step));
        if (pair) {
          keyOffset = (pair.key as YamlNode).range?.[0];
          next = pair.value as YamlNode | null;
        }
      } else if (isSeq(node) && typeof step === 'number') {
        next = node.items[step] as YamlNode | undefined;
      }
      if (last && key && keyOffset !== undefined) return this.at(keyOffset);
      if (next === undefined) break;
      // `key:` with nothing after it has no value node; point at the key.
      if (next === null) return this.at(keyOffset ?? offset);
      node = next;
      offset = next.range?.[0] ?? keyOffset ?? offset;
      if (!isCollection(node) && !last) break;
    }
    return this.at(offset);
  }
}
