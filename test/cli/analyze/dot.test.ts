import { describe, expect, test } from 'vitest';
import { globMatcher, renderDot } from '../../../src/cli/analyze/dot.js';
import { crtosBringUp, unit } from './fixtures.js';

const edges = (dot: string) => dot.split('\n').filter((l) => l.includes('->'));

describe('analyze dot', () => {
  test('requirements black, wants grey66, ordering green, as systemd-analyze colours them, with the legend as a comment', () => {
    const dot = renderDot(crtosBringUp());
    expect(dot.startsWith('digraph crtosd {\n\t// Color legend: black = Requires, dark grey = Wants, green = After\n')).toBe(true);
    expect(dot.endsWith('}\n')).toBe(true);
    expect(edges(dot).filter((l) => l.includes('"hello.loader"->'))).toEqual([
      '\t"hello.loader"->"nuttx.cell" [color="green"];',
      '\t"hello.loader"->"shadow.driver" [color="green"];',
      '\t"hello.loader"->"nuttx.cell" [color="black"];',
      '\t"hello.loader"->"shadow.driver" [color="black"];',
      '\t"hello.loader"->"nuttx.image" [color="grey66"];',
    ]);
    expect(edges(dot)).toHaveLength(13);
  });

  test('--order draws only After, --require only Requires and Wants', () => {
    expect(edges(renderDot(crtosBringUp(), 'order')).every((l) => l.endsWith('[color="green"];'))).toBe(true);
    expect(edges(renderDot(crtosBringUp(), 'order'))).toHaveLength(6);
    const req = edges(renderDot(crtosBringUp(), 'require'));
    expect(req).toHaveLength(7);
    expect(req.some((l) => l.includes('green'))).toBe(false);
  });

  test('unit patterns keep the edges from or to a matching unit', () => {
    expect(edges(renderDot(crtosBringUp(), 'order', ['nuttx.*']))).toEqual(['\t"hello.loader"->"nuttx.cell" [color="green"];', '\t"nuttx.cell"->"jailhouse.hypervisor" [color="green"];', '\t"nuttx.cell"->"nuttx.image" [color="green"];']);
    expect(globMatcher(['a?c'])('abc')).toBe(true);
    expect(globMatcher(['a.c'])('abc')).toBe(false);
    expect(globMatcher(['[ns]*.driver'])('shadow.driver')).toBe(true);
  });

  test('quotes and backslashes in ids are escaped', () => {
    const dot = renderDot([unit('a"b.cell', 1, 2, { after: ['c\\d.driver'] })]);
    expect(edges(dot)).toEqual(['\t"a\\"b.cell"->"c\\\\d.driver" [color="green"];']);
  });
});
