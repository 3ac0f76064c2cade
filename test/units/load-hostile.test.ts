/**
 * Hostile unit files through loadUnits: each ends as one positioned problem with its code, the file
 * and a hint, never as UNIT_INTERNAL (an exception loadUnits caught), a stack overflow or a hang.
 * Big and binary files are generated here, in a temporary directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUnits, type LoadResult } from '../../src/units/load.js';
import { MAX_DEPTH, MAX_DOCUMENTS } from '../../src/units/limits.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'crtos-hostile-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes `files` into a fresh directory `dir` and loads it; `dir/name` is how files are named in problems. */
async function load(dir: string, files: Record<string, string | Buffer>): Promise<LoadResult> {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(tmp, dir, name, '..'), { recursive: true });
    writeFileSync(join(tmp, dir, name), content);
  }
  return loadChecked(dir);
}

async function loadChecked(dir: string): Promise<LoadResult> {
  const result = await loadUnits({ directories: [dir], cwd: tmp });
  expect(result.problems.filter((p) => p.code === 'UNIT_INTERNAL')).toEqual([]);
  expect(result.set).toBeUndefined();
  // Schema problems say in their message what the value must be; problems of the file have a hint.
  for (const p of result.problems) if (!p.code.startsWith('UNIT_INVALID_')) expect(p.hint, `${p.code} has a hint`).toBeDefined();
  return result;
}

const driver = (module: string): string => `kind: Driver\nname: deep\nmodule: ${module}\n`;

describe('loadUnits on hostile unit files', () => {
  it('20,000 nested brackets: the level past the limit, not a stack overflow', async () => {
    // `module: ` is 8 columns: the first `[` (level 2) is column 9
    const r = await load('brackets', { 'a.yaml': driver(`${'['.repeat(20_000)}${']'.repeat(20_000)}`) });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', file: join('brackets', 'a.yaml'), line: 3, column: 9 + MAX_DEPTH - 1 })]);
  });

  it('20,000 nested flow mappings', async () => {
    const r = await load('braces', { 'a.yaml': driver(`${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}`) });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', file: join('braces', 'a.yaml'), line: 3, column: 9 + 4 * (MAX_DEPTH - 1) })]);
  });

  it('20,000 nested block sequences on one line', async () => {
    const r = await load('dashes', { 'a.yaml': `kind: Driver\nname: deep\nmodule:\n  ${'- '.repeat(20_000)}x\n` });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', file: join('dashes', 'a.yaml'), line: 4, column: 3 + 2 * (MAX_DEPTH - 1) })]);
  });

  it('deep nesting in a drop-in points into the drop-in', async () => {
    const r = await load('deep-dropin', { 'a.yaml': driver('x'), 'deep.driver.d/10-deep.yaml': `parameters: ${'['.repeat(5_000)}\n` });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', file: join('deep-dropin', 'deep.driver.d', '10-deep.yaml'), line: 1, column: 13 + MAX_DEPTH - 1 })]);
  });

  it('an alias bomb (billion laughs) in a unit', async () => {
    const level = (name: string, item: string) => `  ${name}: &${name} [${Array(10).fill(item).join(',')}]`;
    const text = ['kind: Driver', 'name: lol', 'module: lol', 'parameters:', level('a', 'x'), level('b', '*a'), level('c', '*b'), level('d', '*c'), level('e', '*d'), ''].join('\n');
    const r = await load('laughs', { 'a.yaml': text });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', file: join('laughs', 'a.yaml'), line: 8, column: 10 + 7 * 3, message: expect.stringMatching(/aliases in this file repeat more than/) })]);
  });

  it('more documents than a file may hold', async () => {
    const r = await load('documents', { 'a.yaml': '---\n'.repeat(200_000) });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_YAML_LIMIT', file: join('documents', 'a.yaml'), line: MAX_DOCUMENTS + 1, column: 1 })]);
  });

  it('values of a million characters on one line are values like any other, quoted short in messages', async () => {
    const r = await load('long-line', {
      'a.yaml': `kind: Image\nname: x\npath: ${'9'.repeat(1_000_000)}\n`,
      'b.yaml': `kind: Network\nname: n\ninterface: eth0\ntimeout: ${'x'.repeat(1_000_000)}\n`,
    });
    expect(r.problems).toEqual([
      expect.objectContaining({ code: 'UNIT_INVALID_VALUE', file: join('long-line', 'a.yaml'), line: 3, column: 7, unit: 'x.image' }),
      expect.objectContaining({ code: 'UNIT_INVALID_VALUE', file: join('long-line', 'b.yaml'), line: 4, column: 10, unit: 'n.network', message: `'timeout': '${'x'.repeat(80)}… (1000000 characters)' is not a duration; write e.g. "10s", "500ms" or "1min 30s"` }),
    ]);
  });

  it('two units of 70,000 unknown fields on one line each get a problem for each field, at its key', async () => {
    // 140,000 problems: more than a push(...problems) can take as arguments
    const head = (name: string) => `{kind: Image, name: ${name}, path: /x`;
    const fields = Array.from({ length: 70_000 }, (_, i) => `, f${i.toString(36)}: 1`).join('');
    const r = await load('many-fields', { 'a.yaml': `${head('a')}${fields}}\n`, 'b.yaml': `${head('b')}${fields}}\n` });
    expect(r.problems).toHaveLength(140_000);
    expect(r.problems[0]).toMatchObject({ code: 'UNIT_UNKNOWN_FIELD', file: join('many-fields', 'a.yaml'), line: 1, column: head('a').length + 3, unit: 'a.image' });
    expect(r.problems[139_999]).toMatchObject({ code: 'UNIT_UNKNOWN_FIELD', file: join('many-fields', 'b.yaml'), line: 1, column: head('b').length + fields.lastIndexOf(',') + 3 });
  });

  it('an empty file, and a file of only comments, are errors', async () => {
    const r = await load('empty', { 'a.yaml': '', 'b.yaml': '# nothing yet\n' });
    expect(r.problems).toEqual([
      expect.objectContaining({ code: 'UNIT_EMPTY_FILE', file: join('empty', 'a.yaml'), line: 1, column: 1 }),
      expect.objectContaining({ code: 'UNIT_EMPTY_FILE', file: join('empty', 'b.yaml'), line: 1, column: 1 }),
    ]);
  });

  it('a binary file, at its first NUL byte', async () => {
    const elf = Buffer.concat([Buffer.from([0x7f]), Buffer.from('ELF\n\x02'), Buffer.from([0x00, 0x01, 0xff])]);
    const r = await load('binary', { 'a.yaml': elf });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_NOT_TEXT', file: join('binary', 'a.yaml'), line: 2, column: 2, offset: 6 })]);
  });

  it('a file that is not UTF-8, at the first byte that is not', async () => {
    const r = await load('latin1', { 'a.yaml': Buffer.concat([Buffer.from('kind: Image\nname: caf'), Buffer.from([0xe9]), Buffer.from('\npath: /x\n')]) });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_NOT_TEXT', file: join('latin1', 'a.yaml'), line: 2, column: 10 })]);
  });

  it('a 50 MB file, refused from its size, saying the limit', async () => {
    mkdirSync(join(tmp, 'huge'));
    writeFileSync(join(tmp, 'huge', 'a.yaml'), '');
    truncateSync(join(tmp, 'huge', 'a.yaml'), 50 * 1024 * 1024);
    const r = await loadChecked('huge');
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_FILE_TOO_LARGE', file: join('huge', 'a.yaml'), message: expect.stringMatching(/1 MiB/) })]);
    expect(r.problems[0]!.line).toBeUndefined();
  });

  it('a symbolic link loop, which discovery must not skip silently', async () => {
    mkdirSync(join(tmp, 'loop'));
    writeFileSync(join(tmp, 'loop', 'ok.yaml'), 'kind: Image\nname: ok\npath: /x\n');
    symlinkSync('loop.yaml', join(tmp, 'loop', 'loop.yaml'));
    const r = await loadChecked('loop');
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_READ_FAILED', file: join('loop', 'loop.yaml'), message: expect.stringMatching(/ELOOP/) })]);
  });

  it('a FIFO given as the unit file, without waiting for a writer', async () => {
    execFileSync('mkfifo', [join(tmp, 'fifo.yaml')]);
    const r = await loadChecked('fifo.yaml');
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_READ_FAILED', file: 'fifo.yaml', message: 'not a regular file but a FIFO' })]);
  });

  it("a Network's address with numbers out of range, at the value", async () => {
    const network = (address: string) => `kind: Network\nname: n\ninterface: eth0\naddress: ${address}\n`;
    const r = await load('cidr', { 'a.yaml': network('999.1.1.1/99') });
    expect(r.problems).toEqual([
      expect.objectContaining({ code: 'UNIT_INVALID_VALUE', file: join('cidr', 'a.yaml'), line: 4, column: 10, unit: 'n.network', message: expect.stringMatching(/'999\.1\.1\.1' is not an IPv4 address .*0 to 32, not '99'/) }),
    ]);
    const list = await load('cidr-list', { 'a.yaml': network('[10.0.0.1/24, fd00::1/129]') });
    expect(list.problems).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_VALUE', line: 4, column: 24, message: expect.stringMatching(/^'address\[1\]'/) })]);
  });
});
