/**
 * The loader against randomly broken versions of the example deployments: keys deleted, values of
 * the wrong type, YAML syntax broken, references renamed, cycles added. Whatever the input, it must
 * not throw, and it must either produce a valid set or report errors that each carry a position.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseAllDocuments, stringify } from 'yaml';
import { buildUnitSet } from '../../src/units/build.js';
import { CODES } from '../../src/errors/codes.js';
import { exampleFiles, sourceFiles } from './helpers.js';

type Doc = Record<string, unknown>;
const files = { ...exampleFiles('crtos'), 'units/crtos/nuttx.cell.d/10-local.yaml': 'ready: { tcp: "127.0.0.1:4242" }\n' };
const parsed: Record<string, Doc[]> = Object.fromEntries(
  Object.entries(files).map(([name, text]) => [name, (parseAllDocuments(text) as unknown as { toJS(): Doc }[]).map((d) => d.toJS())]),
);
const names = Object.keys(files);
const ids = Object.values(parsed).flat().filter((d) => d.kind).map((d) => `${String(d.name)}.${String(d.kind).toLowerCase()}`);

const strangeValue = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.string({ maxLength: 6 }),
  fc.constant([]),
  fc.constant({}),
  fc.constant(['x', 1]),
  fc.constant({ nested: { deeper: 1 } }),
  fc.constantFrom('10s', '0x10', '1-3', '/dev/x', 'jailhouse', 'nuttx.cell', 'on-failure'),
);

type Mutation =
  | { op: 'delete'; file: number; doc: number; key: number }
  | { op: 'retype'; file: number; doc: number; key: number; value: unknown }
  | { op: 'rename'; file: number; doc: number; to: string }
  | { op: 'cycle'; file: number; doc: number; target: number }
  | { op: 'syntax'; file: number; at: number; junk: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), file: fc.nat(), doc: fc.nat(), key: fc.nat() }),
  fc.record({ op: fc.constant('retype' as const), file: fc.nat(), doc: fc.nat(), key: fc.nat(), value: strangeValue }),
  fc.record({ op: fc.constant('rename' as const), file: fc.nat(), doc: fc.nat(), to: fc.constantFrom('nutx', 'jailhouse', 'ghost', 'shadow', 'nuttx') }),
  fc.record({ op: fc.constant('cycle' as const), file: fc.nat(), doc: fc.nat(), target: fc.nat() }),
  fc.record({ op: fc.constant('syntax' as const), file: fc.nat(), at: fc.nat(), junk: fc.constantFrom(':', '[', '{', '"', "'", '\t', '- ', '  ', '\n  x: ', '&a ', '*b', '---\n', ': :', '}', '\n\t- ') }),
);

const pick = <T>(list: readonly T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined);

/** Applies value-level mutations to copies of the documents, then text-level ones to the files. */
function mutate(mutations: readonly Mutation[]): Record<string, string> {
  const docs: Record<string, Doc[]> = structuredClone(parsed);
  const texts: Record<string, string> = {};
  for (const m of mutations) {
    if (m.op === 'syntax') continue;
    const doc = pick(docs[pick(names, m.file)!]!, m.doc);
    if (!doc) continue;
    const keys = Object.keys(doc);
    if (m.op === 'delete') delete doc[pick(keys, m.key)!];
    if (m.op === 'retype') doc[pick(keys, m.key)!] = m.value;
    if (m.op === 'rename') {
      for (const field of ['hypervisor', 'driver', 'image'] as const) if (typeof doc[field] === 'string') doc[field] = m.to;
      if (Array.isArray(doc.requires) && doc.requires.length) doc.requires = [`${m.to}.driver`, ...doc.requires.slice(1)];
      if (Array.isArray(doc.load)) doc.load = [{ image: m.to }];
    }
    if (m.op === 'cycle') doc.after = [...(Array.isArray(doc.after) ? doc.after : []), pick(ids, m.target)!];
  }
  for (const name of names) texts[name] = docs[name]!.map((d) => stringify(d)).join('---\n');
  for (const m of mutations) {
    if (m.op !== 'syntax') continue;
    const name = pick(names, m.file)!;
    const text = texts[name]!;
    const at = m.at % (text.length + 1);
    texts[name] = text.slice(0, at) + m.junk + text.slice(at);
  }
  return texts;
}

describe('loading randomly broken example units', () => {
  it('never throws, and yields a valid set or errors with positions', () => {
    let valid = 0;
    let invalid = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const texts = mutate(mutations);
        const result = buildUnitSet(sourceFiles(texts));
        const errors = result.problems.filter((p) => (p.severity ?? 'error') === 'error');
        for (const p of result.problems) {
          expect(Object.keys(CODES)).toContain(p.code);
          expect(p.message.length).toBeGreaterThan(0);
          expect(texts[p.file!], `${p.code} names a file of the load`).toBeDefined();
          const lines = texts[p.file!]!.split('\n').length;
          expect(p.line).toBeGreaterThanOrEqual(1);
          expect(p.line).toBeLessThanOrEqual(lines);
          expect(p.column).toBeGreaterThanOrEqual(1);
        }
        if (result.set) {
          valid++;
          expect(errors).toEqual([]);
          expect(result.set.layers.flat().sort()).toEqual([...result.set.units.keys()].sort());
        } else {
          invalid++;
          expect(errors.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
    // Both outcomes must occur, or the property says little.
    expect(valid).toBeGreaterThan(0);
    expect(invalid).toBeGreaterThan(250);
  });
});
