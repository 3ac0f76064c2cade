import { describe, expect, it } from 'vitest';
import { runSteps } from '../../src/lib/turns.js';
import { parseSource, parseSourceSteps, SourcePositions } from '../../src/units/yaml-source.js';

const text = `# head
kind: Cell
name: nuttx
load:
  - image: nuttx
    address: 0x0
ready: { tcp: "172.16.0.2:42", timeout: 10s }
empty:
---
kind: Image
`;

describe('SourcePositions', () => {
  const positions = new SourcePositions('f.yaml', text);
  it('finds values and keys in block and flow collections', () => {
    expect(positions.locate(0, ['load', 0, 'address'])).toEqual({ line: 6, column: 14 });
    expect(positions.locate(0, ['load', 0, 'address'], true)).toEqual({ line: 6, column: 5 });
    expect(positions.locate(0, ['ready', 'timeout'])).toEqual({ line: 7, column: 41 });
    expect(positions.locate(1, ['kind'])).toEqual({ line: 10, column: 7 });
  });
  it('points a missing path at the deepest mapping that exists, and an empty value after its key', () => {
    expect(positions.locate(0, ['ready', 'interval'])).toEqual({ line: 7, column: 8 });
    expect(positions.locate(0, ['nope'])).toEqual({ line: 2, column: 1 });
    expect(positions.locate(0, ['empty'])).toEqual({ line: 8, column: 7 }); // where the value would be
    expect(positions.documentStart(1)).toEqual({ line: 10, column: 1 });
  });
});

describe('parseSource', () => {
  it('reads documents with their start, by either parser', () => {
    expect(parseSource('f', text).documents.map((d) => [d.index, d.line])).toEqual([[0, 2], [1, 10]]);
    const anchored = parseSource('f', 'a: &x 1\nb: *x\n');
    expect(anchored.documents[0]!.value).toEqual({ a: 1, b: 1 });
  });

  it('reports the first syntax error of each broken document and keeps the others', () => {
    const r = parseSource('f', 'a: [1\n---\nb: 2\n---\nc: {\n');
    expect(r.documents.map((d) => d.value)).toEqual([{ b: 2 }]);
    expect(r.problems.map((p) => [p.code, p.line])).toEqual([
      ['UNIT_YAML_SYNTAX', 2],
      ['UNIT_YAML_SYNTAX', 6],
    ]);
  });

  it('refuses alias bombs instead of expanding them', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    const r = parseSource('f', bomb);
    expect(r.documents).toEqual([]);
    expect(r.problems[0]!.code).toBe('UNIT_YAML_LIMIT');
  });
});

describe('parseSourceSteps', () => {
  const count = (steps: Generator<void, unknown, void>) => {
    let yields = 0;
    while (!steps.next().done) yields++;
    return yields;
  };

  it('yields between the documents the fast reader takes, and returns what parseSource returns', () => {
    const text = Array.from({ length: 50 }, (_, i) => `kind: Driver\nname: d${i}\nmodule: m${i}\n`).join('---\n');
    expect(count(parseSourceSteps('many.yaml', text))).toBe(49);
    expect(runSteps(parseSourceSteps('many.yaml', text))).toEqual(parseSource('many.yaml', text));
  });

  it('parses a file the yaml package has to read in one step after the fast reader gave up', () => {
    const text = 'kind: Driver\nname: a\n---\nkind: Driver\n\tname: b\n';
    expect(count(parseSourceSteps('tabs.yaml', text))).toBe(0);
    expect(runSteps(parseSourceSteps('tabs.yaml', text))).toEqual(parseSource('tabs.yaml', text));
  });
});
