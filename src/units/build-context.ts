/**
 * What the steps of buildUnitSet share: the problems found so far, where each document's values
 * sit in its file, and the units under construction ("candidates": identified by kind and name,
 * with their drop-in layers, and once they pass their schema, the Unit).
 */
import { hasErrors, type Problem } from '../errors/problem.js';
import type { KindName } from '../kinds/index.js';
import type { Unit } from './types.js';
import { SourcePositions, type SourceDocument, type ValuePath } from './yaml-source.js';
import { originOf } from './merge.js';

export interface Candidate {
  id: string;
  kind: KindName;
  /** '' when the document has no usable name (it is checked, but cannot join the set). */
  name: string;
  /** The unit's own document, then its drop-ins in the order they apply. */
  layers: SourceDocument[];
  /** The layers merged, before the schema. */
  merged?: unknown;
  /** Set once the merged document passed its kind's schema. */
  unit?: Unit;
}

export interface Located {
  file: string;
  line: number;
  column: number;
}

export class BuildContext {
  readonly problems: Problem[] = [];
  /** `file:line` of documents that could not become a unit, for hints about references to them. */
  readonly unreadable: string[] = [];
  private readonly positions = new Map<string, SourcePositions>();
  private readonly fileOrder = new Map<string, number>();
  private readonly texts = new Map<string, string>();

  addFile(file: string, text: string): void {
    if (!this.fileOrder.has(file)) this.fileOrder.set(file, this.fileOrder.size);
    this.positions.set(file, new SourcePositions(file, text));
    this.texts.set(file, text);
  }

  /** The character at a position (a scalar's opening quote, say); '' outside the file. */
  charAt(at: Located): string {
    const text = this.texts.get(at.file) ?? '';
    let offset = 0;
    for (let line = 1; line < at.line && offset >= 0; line++) offset = text.indexOf('\n', offset) + 1 || -1;
    return offset < 0 ? '' : (text[offset + at.column - 1] ?? '');
  }

  /** The position of `path` in `doc` (or of its key); the document start for the empty path. */
  locate(doc: SourceDocument, path: ValuePath, atKey = false): Located {
    if (path.length === 0) return { file: doc.file, line: doc.line, column: doc.column };
    const position = this.positions.get(doc.file)!.locate(doc.index, path, atKey);
    return { file: doc.file, ...position };
  }

  /** The position of `path` in whichever layer of the unit set that value. */
  locateIn(candidate: Candidate, path: ValuePath, atKey = false): Located {
    return this.locate(originOf(candidate.layers, path), path, atKey);
  }

  report(code: Problem['code'], message: string, at: Located, extra: Partial<Problem> = {}): void {
    this.problems.push({ code, message, ...at, ...extra });
  }

  hasErrors(): boolean {
    return hasErrors(this.problems);
  }

  /** Compiler order: by file (in load order), then line and column; stable otherwise. */
  sortedProblems(): Problem[] {
    const order = (p: Problem): number => this.fileOrder.get(p.file ?? '') ?? Number.MAX_SAFE_INTEGER;
    return this.problems
      .map((p, i) => ({ p, i }))
      .sort((a, b) => order(a.p) - order(b.p) || (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.column ?? 0) - (b.p.column ?? 0) || a.i - b.i)
      .map(({ p }) => p);
  }
}
