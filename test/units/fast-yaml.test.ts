import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { fastParseDocuments, fastParseSteps } from '../../src/units/fast-yaml.js';
import { parseSource } from '../../src/units/yaml-source.js';
import { allExampleFiles } from './helpers.js';

/** What the yaml package makes of the text, with the same integer handling as the loader. */
function reference(text: string): unknown[] {
  const docs = parseAllDocuments(text, { intAsBigInt: true });
  const fix = (v: unknown): unknown => {
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (Array.isArray(v)) return v.map(fix);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fix(x)]));
    return v;
  };
  return (docs as unknown as { errors: unknown[]; toJS(): unknown }[]).map((d) => {
    if (d.errors.length) throw new Error('reference parse failed');
    return fix(d.toJS());
  });
}

/** True when the fast reader answered (and agreed); false when it declined. */
function expectAgreement(text: string): boolean {
  const fast = fastParseDocuments(text);
  if (fast === undefined) return false; // declined: the yaml package handles it
  expect(fast.map((d) => d.value)).toEqual(reference(text));
  return true;
}

describe('fastParseDocuments agrees with the yaml package wherever it answers', () => {
  it.each([
    'kind: Cell\nname: nuttx\nload:\n  - image: nuttx\n    address: 0x0\nready: { tcp: "172.16.0.2:42", timeout: 10s }\n',
    '# c\n---\na: 1\n',
    'a: 1\n---\n',
    '',
    '# only\n',
    'a:\n- 1\n- b: 2\n  c: [x, {y: z}]\nd: -1.5e3\ne: ~\nf: \'it\'\'s\'\n',
    '- - a\n  - b\n- c\n',
    'a: 0o17\nb: 0x1F\nc: 123456789012345678901\nd: +12\ne: .5\nf: 1e3\ng: .inf\nh: 1_000\n',
    'x: yes\nrestart: no\nt: True\nn: NULL\n',
    'a: "x\\ty\\"z"\nb: [ ]\nc: {}\nd:\ne: a:b\nf: http://x/y#z\n',
  ])('%j', (text) => {
    expect(fastParseDocuments(text)).toBeDefined();
    expectAgreement(text);
  });

  it('on the example deployments', () => {
    for (const text of Object.values(allExampleFiles())) {
      expect(fastParseDocuments(text)).toBeDefined();
      expectAgreement(text);
    }
  });

  it('reports document start lines like the yaml package', () => {
    const text = '# head\n---\n\nkind: A\n---\n  x: 1\n';
    expect(fastParseDocuments(text)!.map((d) => [d.line, d.column])).toEqual([[4, 1], [6, 3]]);
    const viaYaml = parseSource('f', '%YAML 1.2\n---\n\nkind: A\n');
    expect(viaYaml.documents.map((d) => [d.line, d.column])).toEqual([[4, 1]]);
  });

  it('declines what it does not handle: anchors, block scalars, tabs, multi-line scalars, duplicates', () => {
    for (const text of ['a: &x 1\n', 'a: |\n  x\n', 'a:\t1\n', 'a: one\n  two\n', 'a: 1\na: 2\n', 'a: "x # y"\n', 'a: "x" # y\n', '[a, b]: 1\n', 'a: [1, 2,]\n', '---#x\n', '--- a: 1\n']) {
      expect(fastParseDocuments(text), text).toBeUndefined();
    }
  });

  it('on random documents of scalars, flow and block collections (property)', () => {
    const scalar = fc.oneof(
      fc.constantFrom('a', 'x-y', '10s', '0x40', '1-3,5', '/dev/x', 'null', 'true', 'No', '~', '1.5', '-3', '0o7', '.nan', 'a b', 'a:b', '172.16.0.1/24', '"q"', "'s'"),
      fc.integer().map(String),
      fc.stringMatching(/^[a-z0-9/._-]{1,8}$/),
    );
    const key = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,6}$/);
    type Tree = { kind: 'scalar'; text: string } | { kind: 'seq'; items: Tree[] } | { kind: 'map'; entries: [string, Tree][] };
    const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
      t: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalar.map((text) => ({ kind: 'scalar', text }) as Tree),
        fc.array(tie('t'), { maxLength: 3 }).map((items) => ({ kind: 'seq', items }) as Tree),
        fc.uniqueArray(fc.tuple(key, tie('t')), { maxLength: 3, selector: ([k]) => k }).map((entries) => ({ kind: 'map', entries }) as Tree),
      ),
    })).t;
    const flow = (t: Tree): string =>
      t.kind === 'scalar' ? t.text : t.kind === 'seq' ? `[${t.items.map(flow).join(', ')}]` : `{${t.entries.map(([k, v]) => `${k}: ${flow(v)}`).join(', ')}}`;
    const block = (t: Tree, indent: string, useFlow: boolean): string => {
      if (t.kind === 'scalar' || useFlow || (t.kind === 'seq' ? t.items.length === 0 : t.entries.length === 0)) return ` ${flow(t)}\n`;
      if (t.kind === 'seq') return `\n${t.items.map((i) => `${indent}-${block(i, `${indent}  `, false)}`).join('')}`;
      return `\n${t.entries.map(([k, v]) => `${indent}${k}:${block(v, `${indent}  `, false)}`).join('')}`;
    };
    let answered = 0;
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, tree, fc.boolean()), { minLength: 1, maxLength: 5, selector: ([k]) => k }), (entries) => {
        const text = entries.map(([k, v, f]) => `${k}:${block(v, '  ', f)}`).join('');
        if (expectAgreement(text)) answered++;
      }),
      { numRuns: 300 },
    );
    // The comparison means something only if the fast reader takes most of these.
    expect(answered).toBeGreaterThan(150);
  });
});

describe('fastParseSteps', () => {
  it('yields after each document but the last, and returns what fastParseDocuments returns', () => {
    const text = 'kind: A\n---\nkind: B\n---\nkind: C\n';
    const steps = fastParseSteps(text);
    let yields = 0;
    for (let r = steps.next(); ; r = steps.next()) {
      if (r.done) {
        expect(r.value).toEqual(fastParseDocuments(text));
        break;
      }
      yields++;
    }
    expect(yields).toBe(2);
  });

  it('gives up in a step as fastParseDocuments does', () => {
    const steps = fastParseSteps('kind: A\n---\n%YAML 1.2\n');
    expect(steps.next().done).toBe(false);
    expect(steps.next()).toEqual({ done: true, value: undefined });
  });
});
