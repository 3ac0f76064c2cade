import { describe, expect, it } from 'vitest';
import { parseSource } from '../../src/units/yaml-source.js';
import { MAX_ALIASED_VALUES, MAX_DEPTH } from '../../src/units/limits.js';

const problemsOf = (text: string) => parseSource('f', text).problems;

describe('checks on a composed document', () => {
  it('finds a key given twice in a mapping of 20,000 keys, at the second one (in linear time)', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `"k${i}": 1`);
    const r = parseSource('f', `{${keys.join(', ')}, "k7": 2}\n`);
    expect(r.documents).toEqual([]);
    expect(r.problems).toEqual([{ code: 'UNIT_DUPLICATE_KEY', file: 'f', line: 1, column: keys.join(', ').length + 4, message: 'this key appears twice in the same mapping', hint: 'remove one of the two entries' }]);
  });

  it('takes keys as the text they become: 1 and "1" are the same field', () => {
    expect(problemsOf('a: &x 1\n1: a\n"1": b\n')).toEqual([expect.objectContaining({ code: 'UNIT_DUPLICATE_KEY', line: 3, column: 1 })]);
  });

  it('counts a mapping inside a flow sequence as a level', () => {
    // `path: ` is 6 columns; each `[a: ` is 4 and holds two levels (the sequence, the mapping of its pair)
    const text = `path: ${'[a: '.repeat(50)}1${']'.repeat(50)}\n`;
    const sequences = (MAX_DEPTH + 1 - 1) / 2; // the level MAX_DEPTH + 1 is the mapping inside the 32nd sequence
    expect(problemsOf(text)).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', line: 1, column: 7 + 4 * (sequences - 1) + 1 })]);
  });

  it('counts what an alias repeats at the depth of the alias', () => {
    const text = `a: &a ${'['.repeat(40)}${']'.repeat(40)}\nb: ${'['.repeat(30)}*a${']'.repeat(30)}\n`;
    expect(problemsOf(text)).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', line: 2, column: 34, message: `values are nested more than ${MAX_DEPTH} levels deep here` })]);
  });

  it('refuses a billion laughs at the alias that goes beyond what aliases may repeat', () => {
    const level = (name: string, item: string) => `${name}: &${name} [${Array(10).fill(item).join(',')}]`;
    const text = [level('a', 'x'), level('b', '*a'), level('c', '*b'), level('d', '*c'), level('e', '*d'), level('f', '*e')].join('\n') + '\n';
    // b repeats 10 × 11 values, c 10 × 111, then each *c in d 1,111: the 8th goes past 10,000
    expect(problemsOf(text)).toEqual([{ code: 'UNIT_YAML_LIMIT', file: 'f', line: 4, column: 8 + 7 * 3, message: `aliases in this file repeat more than ${MAX_ALIASED_VALUES} values`, hint: expect.stringMatching(/multiply/) }]);
  });

  it('counts what aliases repeat across the documents of a file', () => {
    const doc = `a: &a [${Array(100).fill('x').join(',')}]\nb: [${Array(20).fill('*a').join(',')}]\n`;
    const text = Array(5).fill(doc).join('---\n');
    expect(problemsOf(text)).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', line: 14, message: expect.stringMatching(/repeat more than/) })]);
    expect(problemsOf(Array(4).fill(doc).join('---\n'))).toEqual([]);
  });

  it('refuses an alias inside its own anchor, and one with no anchor before it, at the alias', () => {
    expect(problemsOf('path: &a [1, *a]\n')).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', line: 1, column: 14, message: 'alias *a is inside the value its anchor &a marks, which would contain itself' })]);
    expect(problemsOf('a: 1\npath: *a\n')).toEqual([expect.objectContaining({ code: 'UNIT_YAML_SYNTAX', line: 2, column: 7, message: 'alias *a has no anchor &a before it' })]);
  });

  it('lets an alias mean the latest anchor of its name, even one inside an anchor of that name', () => {
    const r = parseSource('f', 'a: &x [&x 1, *x]\nb: *x\n');
    expect(r.problems).toEqual([]);
    expect(r.documents[0]!.value).toEqual({ a: [1, 1], b: 1 });
  });
});
