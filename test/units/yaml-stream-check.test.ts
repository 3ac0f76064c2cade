import { describe, expect, it } from 'vitest';
import { parseSource } from '../../src/units/yaml-source.js';
import { fastParseDocuments } from '../../src/units/fast-yaml.js';
import { MAX_DEPTH, MAX_DOCUMENTS } from '../../src/units/limits.js';

/** `key: ` then `depth - 1` nested flow sequences: the top mapping is level 1. */
const nestedTo = (depth: number, open = '[', close = ']'): string => `key: ${open.repeat(depth - 1)}${close.repeat(depth - 1)}\n`;

describe('nesting and document limits, before the yaml package composes a file', () => {
  it('accepts values nested exactly MAX_DEPTH deep, by either parser', () => {
    expect(fastParseDocuments(nestedTo(MAX_DEPTH))).toHaveLength(1);
    expect(parseSource('f', nestedTo(MAX_DEPTH)).problems).toEqual([]);
    // an anchor sends the file to the yaml package
    expect(parseSource('f', `a: &x 1\n${nestedTo(MAX_DEPTH)}`).problems).toEqual([]);
  });

  it('refuses one level more at the collection that crosses the limit; the fast parser leaves it to the full one', () => {
    expect(fastParseDocuments(nestedTo(MAX_DEPTH + 1))).toBeUndefined();
    // `key: ` is 5 columns; the first `[` (level 2) is column 6, the one at level MAX_DEPTH + 1 is MAX_DEPTH - 1 further
    expect(parseSource('f', nestedTo(MAX_DEPTH + 1))).toEqual({
      file: 'f',
      documents: [],
      problems: [{ code: 'UNIT_YAML_LIMIT', file: 'f', line: 1, column: 6 + MAX_DEPTH - 1, message: `values are nested more than ${MAX_DEPTH} levels deep here`, hint: expect.stringMatching(/brackets/) }],
    });
  });

  it('measures block nesting by indentation and compact sequences the same way', () => {
    const indented = Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
    expect(parseSource('f', indented).problems).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', line: MAX_DEPTH + 1, column: MAX_DEPTH + 1 })]);
    const compact = `${'- '.repeat(20_000)}x\n`;
    expect(parseSource('f', compact).problems).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', line: 1, column: 2 * MAX_DEPTH + 1 })]);
  });

  it('refuses more than MAX_DOCUMENTS documents at the first one too many (its `---`)', () => {
    const text = 'kind: Image\n---\n'.repeat(MAX_DOCUMENTS) + 'kind: Image\n';
    expect(fastParseDocuments(text)).toBeUndefined();
    expect(parseSource('f', text).problems).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', line: 2 * MAX_DOCUMENTS, column: 1, message: `more than ${MAX_DOCUMENTS} documents in one file` })]);
    expect(parseSource('f', 'kind: Image\n---\n'.repeat(MAX_DOCUMENTS - 1) + 'kind: Image\n').documents).toHaveLength(MAX_DOCUMENTS);
  });
});
