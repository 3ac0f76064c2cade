import { describe, expect, it } from 'vitest';
import { build, errorsOf, specOf, BASE } from './helpers.js';
import { buildUnitSet, buildUnitSetInTurns } from '../../src/units/build.js';

describe('buildUnitSet: a valid set', () => {
  it('gives ids, specs with friendly scalars converted, and sources', () => {
    const { set, problems } = build({ 'a.yaml': BASE });
    expect(problems).toEqual([]);
    expect([...set!.units.keys()]).toEqual(['jailhouse.driver', 'jailhouse.hypervisor', 'nuttx.image', 'nuttx.cell']);
    const cell = set!.units.get('nuttx.cell')!;
    expect(cell.kind).toBe('Cell');
    expect(specOf(cell, 'Cell').load).toEqual([{ image: 'nuttx', address: 0x1000n }]);
    expect(specOf(cell, 'Cell').timeout).toBe(30_000);
    expect(cell.source).toEqual({ file: 'a.yaml', line: 15, column: 1, dropIns: [] });
  });

  it('adds implicit edges from references, with inverses, and orders in layers', () => {
    const { set } = build({ 'a.yaml': BASE });
    const deps = set!.deps;
    expect(deps.get('nuttx.cell')).toMatchObject({ requires: ['jailhouse.hypervisor', 'nuttx.image'], after: ['jailhouse.hypervisor', 'nuttx.image'] });
    expect(deps.get('jailhouse.hypervisor')).toMatchObject({ requires: ['jailhouse.driver'], requiredBy: ['nuttx.cell'], before: ['nuttx.cell'] });
    expect(set!.layers).toEqual([['jailhouse.driver', 'nuttx.image'], ['jailhouse.hypervisor'], ['nuttx.cell']]);
  });

  it('turns `before` of A on B into B after A, and wants into wantedBy', () => {
    const { set, problems } = build({
      'a.yaml': `${BASE}---\nkind: Network\nname: link\ninterface: enp0s13\nbefore: [nuttx.cell]\nwants: [jailhouse.driver]\n`,
    });
    expect(problems).toEqual([]);
    expect(set!.deps.get('nuttx.cell')!.after).toContain('link.network');
    expect(set!.deps.get('link.network')!.before).toEqual(['nuttx.cell']);
    expect(set!.deps.get('jailhouse.driver')!.wantedBy).toEqual(['link.network']);
  });
});

describe('buildUnitSet: every error kind has its code, position and message', () => {
  it('YAML syntax', () => {
    const r = build({ 'bad.yaml': 'kind: Driver\nname: x\nrequires: [a.driver\nmodule: x\n' });
    expect(r.set).toBeUndefined();
    expect(errorsOf(r)[0]).toMatchObject({ code: 'UNIT_YAML_SYNTAX', file: 'bad.yaml', line: 4 });
    expect(errorsOf(r)[0]!.message).toMatch(/flow sequence/i);
  });

  it('a key given twice', () => {
    const r = build({ 'dup.yaml': 'kind: Driver\nname: x\nmodule: a\nmodule: b\n' });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_DUPLICATE_KEY', file: 'dup.yaml', line: 4, column: 1 })]);
  });

  it('unknown kind, with a suggestion', () => {
    const r = build({ 'k.yaml': 'kind: Cel\nname: x\n' });
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({ code: 'UNIT_UNKNOWN_KIND', file: 'k.yaml', line: 1, column: 7, message: "unknown kind 'Cel'", hint: "did you mean 'Cell'?" }),
    ]);
  });

  it('missing kind', () => {
    const r = build({ 'k.yaml': 'a: 1\n---\nname: x\n' });
    expect(errorsOf(r).map((p) => [p.code, p.line])).toEqual([
      ['UNIT_MISSING_KIND', 1],
      ['UNIT_MISSING_KIND', 3],
    ]);
  });

  it('unknown field at the key, with "did you mean"', () => {
    const text = BASE.replace('load:\n', 'onFailur: restart\nload:\n');
    const r = build({ 'u.yaml': text });
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({
        code: 'UNIT_UNKNOWN_FIELD',
        file: 'u.yaml',
        line: 19,
        column: 1,
        unit: 'nuttx.cell',
        message: "unknown field 'onFailur'",
        hint: "did you mean 'onFailure'?",
      }),
    ]);
  });

  it('unknown field inside a list entry of a union', () => {
    const r = build({ 'u.yaml': BASE.replace('    address: 0x1000', '    adress: 0x1000') });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_UNKNOWN_FIELD', line: 21, column: 5, hint: "did you mean 'address'?" })]);
    expect(errorsOf(r)[0]!.message).toBe("unknown field 'adress' in 'load[0]'");
  });

  it('wrong type, at the value', () => {
    const r = build({ 'u.yaml': BASE.replace('config: /etc/jailhouse/nuttx.cell', 'config: [a, b]') });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_TYPE', line: 18, column: 9, message: "'config' must be a string or a mapping, not a list" })]);
  });

  it('value out of range', () => {
    const r = build({ 'l.yaml': 'kind: Loader\nname: l\nexec: [/bin/x]\nscheduling: { policy: fifo, priority: 120 }\n' });
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({ code: 'UNIT_INVALID_VALUE', line: 4, column: 39, unit: 'l.loader', message: "'scheduling.priority' must be at most 99, not the number 120" }),
    ]);
  });

  it('a value outside its choices, with a suggestion', () => {
    const r = build({ 'u.yaml': `${BASE}onFailure: restrat\n` });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_VALUE', line: 22, column: 12, hint: "did you mean 'restart'?" })]);
    expect(errorsOf(r)[0]!.message).toContain("'onFailure' must be one of 'none', 'restart', 'stop'");
  });

  it('a friendly scalar that does not parse', () => {
    const r = build({ 'u.yaml': `${BASE}timeout: 10 parsecs\n` });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_VALUE', line: 22, column: 10 })]);
    expect(errorsOf(r)[0]!.message).toMatch(/'timeout': '10 parsecs' is not a duration/);
  });

  it('a missing required field, at the mapping, with the field documented in the hint', () => {
    const r = build({ 'u.yaml': BASE.replace('config: /etc/jailhouse/nuttx.cell\n', '') });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_MISSING_FIELD', line: 15, column: 1, message: "missing field 'config'" })]);
    expect(errorsOf(r)[0]!.hint).toMatch(/jailhouse cell create/);
  });

  it('duplicate unit id across files, pointing at the first', () => {
    const r = build({ 'a.yaml': BASE, 'b.yaml': '# again\nkind: Image\nname: nuttx\npath: /x\n' });
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({ code: 'UNIT_DUPLICATE_ID', file: 'b.yaml', line: 3, column: 7, unit: 'nuttx.image', message: "a unit with id 'nuttx.image' is already defined" }),
    ]);
    expect(errorsOf(r)[0]!.hint).toContain('first defined at a.yaml:11');
  });

  it('a second Hypervisor unit is a conflict, at its kind, naming the first', () => {
    const r = build({ 'a.yaml': BASE, 'b.yaml': '# RTMux too\nkind: Hypervisor\nname: rtmux\ntype: rtmux\nmodule: /lib/modules/rtvmm.ko\nimage: nuttx\n' });
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({ code: 'UNIT_CONFLICT', file: 'b.yaml', line: 2, column: 7, unit: 'rtmux.hypervisor', message: expect.stringMatching(/^a second hypervisor: jailhouse\.hypervisor is already defined in a\.yaml:\d+$/) }),
    ]);
    expect(errorsOf(r)[0]!.hint).toMatch(/one Hypervisor unit/);
  });

  it('a reference to a unit that does not exist, with the near miss', () => {
    const r = build({ 'u.yaml': BASE.replace('  - image: nuttx', '  - image: nutx') });
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({ code: 'UNIT_UNKNOWN_REFERENCE', line: 20, column: 12, unit: 'nuttx.cell', message: "'load[0].image' refers to 'nutx.image', which does not exist", hint: "did you mean 'nuttx.image'?" }),
    ]);
  });

  it('a reference to a name that exists only as another kind says so', () => {
    const r = build({ 'u.yaml': BASE.replace('hypervisor: jailhouse', 'hypervisor: nuttx') });
    expect(errorsOf(r)[0]).toMatchObject({ code: 'UNIT_UNKNOWN_REFERENCE', line: 17, column: 13 });
    expect(errorsOf(r)[0]!.hint).toBe("there is 'nuttx.image', 'nuttx.cell', but this needs a Hypervisor");
  });

  it('a reference to a unit lost to another error says it may be that one', () => {
    const r = build({ 'a.yaml': BASE.replace('kind: Image\nname: nuttx', 'kind: Image\nname: [nuttx') });
    expect(errorsOf(r).map((p) => p.code)).toEqual(['UNIT_YAML_SYNTAX', 'UNIT_UNKNOWN_REFERENCE']);
    expect(errorsOf(r)[1]!.hint).toBe("there is 'nuttx.cell', but this needs an Image; or it is the unit at a.yaml:13 that has an error above");
  });

  it('a Loader whose requires names a missing unit', () => {
    const r = build({ 'u.yaml': BASE, 'l.yaml': 'kind: Loader\nname: hello\nexec: [/opt/crtos/loader]\nrequires: [nuttx.cell, shadow.driver]\n' });
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({ code: 'UNIT_UNKNOWN_REFERENCE', file: 'l.yaml', line: 4, column: 24, unit: 'hello.loader', message: "'requires[1]' refers to 'shadow.driver', which does not exist" }),
    ]);
  });

  it('after/before against a missing unit is only a warning', () => {
    const r = build({ 'u.yaml': `${BASE}after: [ghost.driver]\n` });
    expect(r.set).toBeDefined();
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_UNKNOWN_ORDER_TARGET', severity: 'warning', line: 22, column: 9 })]);
  });

  it('a dependency cycle lists every unit on it', () => {
    const r = build({
      'u.yaml': BASE.replace('module: jailhouse', 'module: jailhouse\nafter: [nuttx.cell]'),
    });
    const cycles = errorsOf(r).filter((p) => p.code === 'UNIT_DEPENDENCY_CYCLE');
    expect(cycles).toHaveLength(1);
    expect(cycles[0]!.message).toBe('dependency cycle: nuttx.cell → jailhouse.hypervisor → jailhouse.driver → nuttx.cell (each starts after the next)');
    // at the declaration of its first edge: nuttx.cell's `hypervisor:`
    expect(cycles[0]).toMatchObject({ file: 'u.yaml', line: 18, column: 13, unit: 'nuttx.cell' });
  });

  it('a unit that requires itself is a cycle of one', () => {
    const r = build({ 'u.yaml': 'kind: Image\nname: i\npath: /i\nrequires: [i.image]\n' });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_DEPENDENCY_CYCLE', line: 4, column: 12, message: expect.stringContaining('i.image → i.image') })]);
  });

  it('a file a unit names is missing under the root', () => {
    const r = build({ 'u.yaml': BASE }, { fileExists: (p) => p !== '/etc/jailhouse/nuttx.cell' });
    expect(errorsOf(r)).toEqual([
      expect.objectContaining({ code: 'UNIT_FILE_MISSING', line: 18, column: 9, unit: 'nuttx.cell', message: "'config' names /etc/jailhouse/nuttx.cell, which does not exist" }),
    ]);
  });

  it("a Loader's program missing under the root points at the program", () => {
    const r = build({ 'l.yaml': 'kind: Loader\nname: l\nexec: [/opt/crtos/loader, /opt/crtos/apps/hello]\n' }, { fileExists: () => false });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_FILE_MISSING', line: 3, column: 8, message: "'exec[0]' names /opt/crtos/loader, which does not exist" })]);
  });

  it('collects every error of a load together, sorted by file and line', () => {
    const r = build({
      'a.yaml': BASE.replace('module: jailhouse', 'modul: jailhouse').replace('  - image: nuttx', '  - image: nope'),
      'b.yaml': 'kind: Netwerk\nname: n\n',
    });
    expect(errorsOf(r).map((p) => `${p.file}:${p.line}:${p.code}`)).toEqual([
      'a.yaml:1:UNIT_MISSING_FIELD', // neither module nor path
      'a.yaml:3:UNIT_UNKNOWN_FIELD',
      'a.yaml:20:UNIT_UNKNOWN_REFERENCE',
      'b.yaml:1:UNIT_UNKNOWN_KIND',
    ]);
  });
});

describe('buildUnitSet: drop-ins', () => {
  it('merge mappings recursively and replace lists and scalars, in the order given', () => {
    const r = build({
      'u.yaml': `${BASE}ready: { tcp: "172.16.0.2:42", timeout: 10s }\n`,
      'nuttx.cell.d/10-ready.yaml': 'ready:\n  tcp: 127.0.0.1:4242\n',
      'nuttx.cell.d/20-load.yaml': 'kind: Cell\nload:\n  - string: "console=ttyS0"\n',
    });
    expect(r.problems).toEqual([]);
    const cell = r.set!.units.get('nuttx.cell')!;
    expect(specOf(cell, 'Cell').ready).toEqual({ tcp: { host: '127.0.0.1', port: 4242 }, timeout: 10_000, interval: 100 });
    expect(specOf(cell, 'Cell').load).toEqual([{ string: 'console=ttyS0', address: 0n }]);
    expect(cell.source.dropIns).toEqual(['nuttx.cell.d/10-ready.yaml', 'nuttx.cell.d/20-load.yaml']);
    // the replaced list no longer references the image
    expect(r.set!.deps.get('nuttx.cell')!.requires).toEqual(['jailhouse.hypervisor']);
  });

  it('null removes a field', () => {
    const r = build({ 'u.yaml': `${BASE}ready: { tcp: "172.16.0.2:42" }\n`, 'nuttx.cell.d/x.yaml': 'ready: null\n' });
    const cell = r.set!.units.get('nuttx.cell')!;
    expect(specOf(cell, 'Cell').ready).toBeUndefined();
  });

  it('problems in a drop-in point into the drop-in file', () => {
    const r = build({ 'u.yaml': BASE, 'nuttx.cell.d/10.yaml': '# fix\nonFailure: sometimes\n' });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_VALUE', file: 'nuttx.cell.d/10.yaml', line: 2, column: 12, unit: 'nuttx.cell' })]);
  });

  it('a drop-in may not rename its unit', () => {
    const r = build({ 'u.yaml': BASE, 'nuttx.cell.d/10.yaml': 'kind: Cell\nname: other\n' });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_DROPIN_MISMATCH', file: 'nuttx.cell.d/10.yaml', line: 2, column: 7 })]);
  });

  it('a drop-in for no unit is a warning', () => {
    const r = build({ 'u.yaml': BASE, 'nutx.cell.d/10.yaml': 'start: false\n' });
    expect(r.set).toBeDefined();
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_DROPIN_ORPHAN', severity: 'warning', hint: "did you mean 'nuttx.cell'?" })]);
  });
});

describe('buildUnitSet: YAML details', () => {
  it('reads the full YAML language when the fast reader declines (anchors, block scalars)', () => {
    const r = build({
      'a.yaml': 'kind: Loader\nname: l\nexec: [/bin/sh]\nenvironment: &env\n  A: |\n    two\n    lines\ndescription: >-\n  folded\n  text\n',
    });
    expect(r.problems).toEqual([]);
    const l = r.set!.units.get('l.loader')!;
    expect(specOf(l, 'Loader').environment).toEqual({ A: 'two\nlines\n' });
    expect(l.spec.description).toBe('folded text');
  });

  it('keeps 64-bit addresses exact', () => {
    const r = build({ 'a.yaml': BASE.replace('address: 0x1000', 'address: 0xffffffff00001000') });
    const cell = r.set!.units.get('nuttx.cell')!;
    expect(specOf(cell, 'Cell').load[0]!.address).toBe(0xffffffff00001000n);
  });

  it('a document that is not a mapping', () => {
    const r = build({ 'a.yaml': '- kind: Driver\n' });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ code: 'UNIT_NOT_A_MAPPING', line: 1, column: 1 })]);
  });

  it('empty documents around units are fine', () => {
    const r = build({ 'a.yaml': '---\nkind: Image\nname: a\npath: /a\n---\n# nothing\n---\n' });
    expect(r.problems).toEqual([]);
    expect(r.set!.units.size).toBe(1);
  });

  it('a file or drop-in without any unit is an error, unlike systemd (where it masks): a truncated save must not remove units', () => {
    const r = build({ 'a.yaml': '', 'b.yaml': '# nothing\n---\n---\n', 'c.yaml': 'kind: Image\nname: c\npath: /c\n', 'c.image.d/10-x.yaml': '\n' });
    expect(r.set).toBeUndefined();
    expect(r.problems).toEqual([
      { code: 'UNIT_EMPTY_FILE', message: 'no unit in this file: it is empty (or holds only comments)', file: 'a.yaml', line: 1, column: 1, hint: expect.stringMatching(/delete the file/) },
      expect.objectContaining({ code: 'UNIT_EMPTY_FILE', file: 'b.yaml', line: 1, column: 1 }),
      expect.objectContaining({ code: 'UNIT_EMPTY_FILE', file: 'c.image.d/10-x.yaml', unit: 'c.image', message: 'this drop-in is empty (or holds only comments)' }),
    ]);
  });
});

describe('buildUnitSetInTurns', () => {
  it('gives what buildUnitSet gives, for a valid set and for one with errors', async () => {
    const valid = [{ file: 'a.yaml', text: BASE }];
    const broken = [{ file: 'a.yaml', text: BASE }, { file: 'b.yaml', text: 'kind: Cell\nname: x\nconfig: 7\n' }, { file: 'c.yaml', text: 'kind: [\n' }];
    for (const files of [valid, broken]) expect(await buildUnitSetInTurns(files)).toEqual(buildUnitSet(files));
    expect(buildUnitSet(broken).problems.length).toBeGreaterThan(1);
  });
});
