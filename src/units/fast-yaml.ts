/**
 * A fast reader for the plain subset of YAML that unit files are written in: block mappings and
 * sequences, one-line flow collections, plain and quoted one-line scalars, comments and `---`
 * document separators. The `yaml` package spends about 60µs per small document building a CST
 * with every position; this reader needs a few, which is what lets 10,000 units load in well under
 * a second. It gives up (returns undefined) on anything outside the subset or anything odd, and the
 * caller then parses with the `yaml` package, which also produces the error messages and positions.
 * Values follow the YAML 1.2 core schema exactly as the `yaml` package resolves them (test/units/
 * fast-yaml.test.ts checks the two agree).
 */

import { MAX_DEPTH, MAX_DOCUMENTS } from './limits.js';
import { runSteps } from '../lib/turns.js';

class Bail extends Error {}
const bail = (): never => {
  throw new Bail();
};

interface Line {
  indent: number;
  text: string;
  /** 1-based line number in the file. */
  number: number;
}

export interface FastDocument {
  /** The document as plain data; null for an empty document. */
  value: unknown;
  /** 1-based position of its first content (or of its `---` when it is empty). */
  line: number;
  column: number;
}

/**
 * The documents of `text`, or undefined to fall back to the full parser. Beyond the limits of
 * limits.ts it falls back too, so that the full parser's checks report them with a position.
 */
export function fastParseDocuments(text: string): FastDocument[] | undefined {
  return runSteps(fastParseSteps(text));
}

/**
 * fastParseDocuments' work, yielding after each document: a file of a thousand units took 7-10 ms
 * to read in one piece, a turn of the daemon's loop (src/lib/turns.ts).
 */
export function* fastParseSteps(text: string): Generator<void, FastDocument[] | undefined, void> {
  if (text.includes('\t') || text.includes('\r') || text.charCodeAt(0) === 0xfeff) return undefined;
  try {
    return yield* parseStream(text);
  } catch (e) {
    if (e instanceof Bail) return undefined;
    throw e;
  }
}

function* parseStream(text: string): Generator<void, FastDocument[], void> {
  const documents: FastDocument[] = [];
  let current: Line[] = [];
  let separatorLine = 0;
  const finish = (): void => {
    const first = current[0];
    if (documents.length === MAX_DOCUMENTS) bail();
    documents.push({ value: parseDocument(current), line: first?.number ?? separatorLine, column: first ? first.indent + 1 : 1 });
  };
  const raws = text.split('\n');
  for (let n = 0; n < raws.length; n++) {
    const raw = raws[n]!;
    if (raw.startsWith('---')) {
      if (raw.length > 3 && !/^---(\s+#.*)?\s*$/.test(raw)) bail();
      // Only blank lines and comments before the first separator are no document of their own.
      if (separatorLine > 0 || current.length > 0) {
        finish();
        yield;
      }
      current = [];
      separatorLine = n + 1;
      continue;
    }
    if (raw.startsWith('...') || raw.startsWith('%')) bail();
    const line = meaningful(raw, n + 1);
    if (line) current.push(line);
  }
  if (separatorLine > 0 || current.length > 0) finish();
  return documents;
}

/** A line without its comment and trailing blanks, or undefined when nothing is left. */
function meaningful(raw: string, number: number): Line | undefined {
  const trimmed = raw.trimStart();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  let end = raw.length;
  for (let i = raw.indexOf('#'); i >= 0; i = raw.indexOf('#', i + 1)) {
    if (raw[i - 1] !== ' ') continue; // `a#b` is text, not a comment
    // A quote before the comment could mean the '#' is inside a string: leave it to the full parser.
    const before = raw.slice(0, i);
    if (before.includes('"') || before.includes("'")) bail();
    end = i;
    break;
  }
  const content = raw.slice(0, end).trimEnd();
  const indent = content.length - content.trimStart().length;
  return { indent, text: content.slice(indent), number };
}

function parseDocument(lines: Line[]): unknown {
  if (lines.length === 0) return null;
  const first = lines[0]!;
  const [value, next] = parseNode(lines, 0, first.indent, 1);
  if (next !== lines.length) bail();
  return value;
}

function isSeqItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** Index of the `:` that ends a block mapping key, or -1. */
function keyColon(text: string): number {
  const c = text[0];
  if (c === '"' || c === "'" || c === '[' || c === '{' || c === '?') return -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ':' && (i + 1 === text.length || text[i + 1] === ' ')) return i;
  }
  return -1;
}

/** `depth`: how deep a collection starting here would be (the document's own is 1). */
function parseNode(lines: Line[], i: number, indent: number, depth: number): [unknown, number] {
  const line = lines[i]!;
  if (isSeqItem(line.text)) return parseSeq(lines, i, indent, depth);
  if (keyColon(line.text) > 0) return parseMap(lines, i, indent, depth);
  const value = parseInline(line.text, depth);
  if (i + 1 < lines.length && lines[i + 1]!.indent > indent) bail(); // a multi-line scalar
  return [value, i + 1];
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_.@/-]*$/;
const RESERVED_KEY = /^(null|Null|NULL|true|True|TRUE|false|False|FALSE|__proto__)$/;

function plainKey(key: string): string {
  if (!SIMPLE_KEY.test(key) || RESERVED_KEY.test(key)) bail();
  return key;
}

function parseMap(lines: Line[], i: number, indent: number, depth: number): [Record<string, unknown>, number] {
  if (depth > MAX_DEPTH) bail();
  const map: Record<string, unknown> = {};
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) bail();
    const colon = keyColon(line.text);
    if (colon <= 0) {
      if (isSeqItem(line.text)) break; // the parent's compact sequence continues; let it decide
      bail();
    }
    const key = plainKey(line.text.slice(0, colon));
    if (Object.prototype.hasOwnProperty.call(map, key)) bail(); // duplicate: the full parser reports it
    const rest = line.text.slice(colon + 1).trim();
    i++;
    if (rest !== '') {
      map[key] = parseInline(rest, depth + 1);
      if (i < lines.length && lines[i]!.indent > indent) bail();
      continue;
    }
    const next = lines[i];
    if (next && next.indent > indent) {
      [map[key], i] = parseNode(lines, i, next.indent, depth + 1);
    } else if (next && next.indent === indent && isSeqItem(next.text)) {
      [map[key], i] = parseSeq(lines, i, indent, depth + 1);
    } else {
      map[key] = null;
    }
  }
  return [map, i];
}

function parseSeq(lines: Line[], i: number, indent: number, depth: number): [unknown[], number] {
  if (depth > MAX_DEPTH) bail();
  const seq: unknown[] = [];
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) bail();
    if (!isSeqItem(line.text)) break;
    const after = line.text.slice(1);
    const rest = after.trimStart();
    if (rest === '') {
      i++;
      const next = lines[i];
      if (next && next.indent > indent) [seq[seq.length], i] = parseNode(lines, i, next.indent, depth + 1);
      else seq.push(null);
      continue;
    }
    // `- key: value` or `- - x`: the item is a block node starting at the column after the dash.
    const innerIndent = indent + 1 + (after.length - rest.length);
    if (isSeqItem(rest) || keyColon(rest) > 0) {
      // The lines are this parse's own copy, so the item's first line can be rewritten in place.
      lines[i] = { indent: innerIndent, text: rest, number: line.number };
      [seq[seq.length], i] = parseNode(lines, i, innerIndent, depth + 1);
      continue;
    }
    seq.push(parseInline(rest, depth + 1));
    i++;
    if (i < lines.length && lines[i]!.indent > indent) bail();
  }
  return [seq, i];
}

/** A value on one line: flow collection, quoted or plain scalar. */
function parseInline(text: string, depth: number): unknown {
  const c = text[0];
  if (c === '[' || c === '{') {
    const reader = new FlowReader(text, depth);
    const value = reader.value();
    reader.skipSpaces();
    if (!reader.done()) bail();
    return value;
  }
  if (c === '"' || c === "'") {
    const [value, end] = quoted(text, 0);
    if (end !== text.length) bail();
    return value;
  }
  return plainScalar(text, false);
}

const INDICATORS = new Set(['&', '*', '!', '|', '>', '%', '@', '`', '?', ',', ']', '}', '#']);

function plainScalar(text: string, inFlow: boolean): unknown {
  const t = text.trim();
  if (t === '') bail();
  if (INDICATORS.has(t[0]!) || (t[0] === '-' && (t.length === 1 || t[1] === ' ')) || t.includes(': ') || t.endsWith(':')) bail();
  if (inFlow && /[[\]{},]/.test(t)) bail();
  return resolvePlain(t);
}

/** YAML 1.2 core schema resolution of a plain scalar. */
export function resolvePlain(t: string): unknown {
  switch (t) {
    case '~': case 'null': case 'Null': case 'NULL': return null;
    case 'true': case 'True': case 'TRUE': return true;
    case 'false': case 'False': case 'FALSE': return false;
    case '.inf': case '.Inf': case '.INF': case '+.inf': case '+.Inf': case '+.INF': return Infinity;
    case '-.inf': case '-.Inf': case '-.INF': return -Infinity;
    case '.nan': case '.NaN': case '.NAN': return NaN;
  }
  const c = t.charCodeAt(0);
  // Only text starting with a digit, sign or dot can be a number.
  if (!((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return t;
  if (/^[-+]?[0-9]+$/.test(t)) return integer(BigInt(t));
  if (/^0x[0-9a-fA-F]+$/.test(t)) return integer(BigInt(t));
  if (/^0o[0-7]+$/.test(t)) return integer(BigInt(t));
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(t)) return Number(t);
  return t;
}

/**
 * Integers beyond 2^53 cannot be numbers without losing digits (a 64-bit address would silently
 * change), so they become their exact decimal text, which the address and size scalars accept.
 */
export function integer(value: bigint): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.toString();
}

const DOUBLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0', ' ': ' ' };

/** A quoted scalar starting at `start`; returns the value and the index after the closing quote. */
function quoted(text: string, start: number): [string, number] {
  const q = text[start]!;
  let out = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (q === "'" && ch === "'") {
      if (text[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return [out, i + 1];
    }
    if (q === '"' && ch === '"') return [out, i + 1];
    if (q === '"' && ch === '\\') {
      const escaped = DOUBLE_ESCAPES[text[i + 1] ?? ''];
      if (escaped === undefined) bail();
      out += escaped;
      i += 2;
      continue;
    }
    out += ch;
    i++;
  }
  return bail();
}

class FlowReader {
  private i = 0;
  /** `depth`: the depth of a collection starting at the reader's position. */
  constructor(
    private readonly text: string,
    private depth: number,
  ) {}

  done(): boolean {
    return this.i >= this.text.length;
  }

  skipSpaces(): void {
    while (this.text[this.i] === ' ') this.i++;
  }

  value(): unknown {
    this.skipSpaces();
    const c = this.text[this.i];
    if (c === '[' || c === '{') {
      if (this.depth > MAX_DEPTH) bail();
      this.depth++;
      const value = c === '[' ? this.sequence() : this.mapping();
      this.depth--;
      return value;
    }
    if (c === '"' || c === "'") {
      const [value, end] = quoted(this.text, this.i);
      this.i = end;
      return value;
    }
    return this.plain();
  }

  private plain(): unknown {
    const start = this.i;
    while (this.i < this.text.length) {
      const c = this.text[this.i]!;
      if (c === ',' || c === ']' || c === '}' || c === '[' || c === '{') break;
      if (c === ':' && (this.text[this.i + 1] === ' ' || this.text[this.i + 1] === undefined)) break;
      this.i++;
    }
    return plainScalar(this.text.slice(start, this.i), true);
  }

  private sequence(): unknown[] {
    this.i++; // [
    const out: unknown[] = [];
    this.skipSpaces();
    if (this.text[this.i] === ']') {
      this.i++;
      return out;
    }
    while (true) {
      out.push(this.value());
      this.skipSpaces();
      const c = this.text[this.i];
      this.i++;
      if (c === ']') return out;
      if (c !== ',') bail();
      this.skipSpaces();
      if (this.text[this.i] === ']') bail(); // trailing comma: rare, leave it to the full parser
    }
  }

  private mapping(): Record<string, unknown> {
    this.i++; // {
    const out: Record<string, unknown> = {};
    this.skipSpaces();
    if (this.text[this.i] === '}') {
      this.i++;
      return out;
    }
    while (true) {
      this.skipSpaces();
      const start = this.i;
      while (this.i < this.text.length && this.text[this.i] !== ':') this.i++;
      const key = plainKey(this.text.slice(start, this.i).trim());
      if (this.text[this.i + 1] !== ' ') bail();
      this.i++;
      if (Object.prototype.hasOwnProperty.call(out, key)) bail();
      out[key] = this.value();
      this.skipSpaces();
      const c = this.text[this.i];
      this.i++;
      if (c === '}') return out;
      if (c !== ',') bail();
      this.skipSpaces();
      if (this.text[this.i] === '}') bail();
    }
  }
}
