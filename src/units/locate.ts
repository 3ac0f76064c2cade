/**
 * Where a value of a loaded unit sits in its files, after the fact: for checks that run on a valid
 * UnitSet (`crtosctl validate` checking inline cell configurations against the system
 * configuration) and still want to point at the YAML node, in the unit's file or in the drop-in
 * that set it. Parses only the files asked about, when asked.
 */
import type { Unit } from './types.js';
import { parseSource, SourcePositions, type SourceDocument, type ValuePath } from './yaml-source.js';
import { originOf } from './merge.js';

export interface UnitPosition {
  file: string;
  line: number;
  column: number;
}

/** The position of `path` in `unit` (its own document or the drop-in that set it); the unit's start when the texts are not at hand. */
export function locateInUnit(unit: Unit, path: ValuePath, sources: ReadonlyMap<string, string>): UnitPosition {
  const start = { file: unit.source.file, line: unit.source.line, column: unit.source.column };
  const text = sources.get(unit.source.file);
  if (text === undefined) return start;
  const own = parseSource(unit.source.file, text).documents.find((d) => d.line === unit.source.line);
  if (!own) return start;
  const layers: SourceDocument[] = [own];
  for (const file of unit.source.dropIns) {
    const dropIn = sources.get(file);
    if (dropIn !== undefined) for (const doc of parseSource(file, dropIn).documents) layers.push(doc);
  }
  const origin = originOf(layers, path);
  const position = new SourcePositions(origin.file, sources.get(origin.file)!).locate(origin.index, path);
  return { file: origin.file, ...position };
}
