import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFactsFile, readFactsFiles } from '../../src/facts/parse.js';
import { factsYaml } from '../../src/facts/render.js';
import { facts } from '../conditions/facts-fixture.js';

const GOOD = factsYaml(facts());
const dir = mkdtempSync(join(tmpdir(), 'crtos-facts-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('facts files', () => {
  it('reads back what crtosctl facts prints', () => {
    expect(parseFactsFile('a.yaml', GOOD)).toEqual({ facts: facts(), problems: [] });
  });

  it('refuses a file that is not YAML, naming the file and line', () => {
    const { facts: f, problems } = parseFactsFile('bad.yaml', 'hostname: [unclosed\ncpus: 4\n');
    expect(f).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ code: 'FACTS_NOT_YAML', file: 'bad.yaml', line: 2, message: expect.stringMatching(/^not a facts file: /) })]);
  });

  it('refuses YAML that is not one mapping of facts', () => {
    expect(parseFactsFile('s.yaml', 'just a string\n').problems).toEqual([expect.objectContaining({ code: 'FACTS_NOT_YAML', message: 'not a facts file: it holds no mapping of facts, where one mapping of facts belongs' })]);
    expect(parseFactsFile('e.yaml', '').problems[0]!.message).toBe('not a facts file: it holds nothing, where one mapping of facts belongs');
    expect(parseFactsFile('two.yaml', `${GOOD}---\n${GOOD}`).problems[0]!.message).toBe('not a facts file: it holds 2 documents, where one mapping of facts belongs');
  });

  it('names each missing field and each field of the wrong type at its line', () => {
    const text = GOOD.replace(/^hostname: .*\n/m, '').replace('count: 4', 'count: four');
    const { problems } = parseFactsFile('m.yaml', text);
    const countLine = text.split('\n').findIndex((l) => l.includes('count: four')) + 1;
    expect(problems.map((p) => [p.code, p.file, p.line, p.message])).toEqual([
      ['FACTS_INVALID', 'm.yaml', 2, "missing field 'hostname'"],
      ['FACTS_INVALID', 'm.yaml', countLine, expect.stringContaining("'cpus.count'")],
    ]);
  });

  it('reads physical RAM ranges beside System RAM, a file without them still valid, and refuses a range that is not one', () => {
    const withRam = facts();
    withRam.memory.physicalRam = ['0x40000000-0xbfffffff'];
    expect(parseFactsFile('p.yaml', factsYaml(withRam))).toEqual({ facts: withRam, problems: [] });
    expect(GOOD).not.toContain('physicalRam');
    const text = factsYaml(withRam).replace('0x40000000-0xbfffffff', '1 GiB at 0x40000000');
    const line = text.split('\n').findIndex((l) => l.includes('1 GiB')) + 1;
    expect(parseFactsFile('p.yaml', text).problems.map((p) => [p.code, p.line, p.message])).toEqual([['FACTS_INVALID', line, expect.stringContaining('must be a range like 0x40000000-0x7fffffff')]]);
  });

  it('reads the paths a facts file says exist or not, and refuses one that is not absolute', () => {
    const withPaths = facts({ paths: { '/dev/rpmsg_ctrl0': true, '/dev/remoteproc0': false } });
    expect(parseFactsFile('p.yaml', factsYaml(withPaths))).toEqual({ facts: withPaths, problems: [] });
    const text = factsYaml(facts({ paths: { 'dev/x': true } }));
    const line = text.split('\n').findIndex((l) => l.includes('dev/x')) + 1;
    expect(parseFactsFile('p.yaml', text).problems.map((p) => [p.code, p.line, p.message])).toEqual([['FACTS_INVALID', line, expect.stringContaining("'dev/x' is not an absolute path")]]);
  });

  it('refuses another format version and a field it does not define', () => {
    const { problems } = parseFactsFile('v.yaml', GOOD.replace('crtosFactsVersion: 1', 'crtosFactsVersion: 2').replace('hostname:', 'hostnam: x\nhostname:'));
    expect(problems.map((p) => p.message)).toEqual(["'crtosFactsVersion' must be '1', not the number 2", "unknown field 'hostnam'"]);
  });

  it('reads a directory of facts files in name order, and says which argument cannot be read', async () => {
    mkdirSync(join(dir, 'fleet'));
    writeFileSync(join(dir, 'fleet', 'b.yaml'), factsYaml(facts({ hostname: 'b' })));
    writeFileSync(join(dir, 'fleet', 'a.yml'), factsYaml(facts({ hostname: 'a' })));
    writeFileSync(join(dir, 'fleet', 'notes.txt'), 'not facts');
    const read = await readFactsFiles(['fleet', 'missing.yaml'], dir);
    expect(read.files.map((f) => [f.file, f.facts.hostname])).toEqual([
      [join('fleet', 'a.yml'), 'a'],
      [join('fleet', 'b.yaml'), 'b'],
    ]);
    expect(read.problems).toEqual([expect.objectContaining({ code: 'FACTS_UNREADABLE', file: 'missing.yaml', message: 'missing.yaml cannot be read: No such file or directory' })]);
  });
});
