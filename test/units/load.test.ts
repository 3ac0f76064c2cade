import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { loadUnits, DEFAULT_UNIT_DIRECTORIES } from '../../src/units/load.js';
import { specOf } from './helpers.js';

let tmp: string;
const write = (path: string, text: string): void => {
  mkdirSync(dirname(join(tmp, path)), { recursive: true });
  writeFileSync(join(tmp, path), text);
};
const image = (name: string, path = `/img/${name}`): string => `kind: Image\nname: ${name}\npath: ${path}\n`;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'crtos-load-'));
  // etc (highest) hides usr's same-named file; usr's other file still counts.
  write('etc/a.yaml', image('a', '/img/from-etc'));
  write('usr/a.yaml', image('a', '/img/from-usr'));
  write('usr/b.yml', image('b'));
  // ignored: dot files, editor backups, other extensions
  write('usr/.hidden.yaml', 'not: [valid');
  write('usr/c.yaml~', 'not: [valid');
  write('usr/.c.yaml.swp', 'not: [valid');
  write('usr/notes.txt', 'not: [valid');
  // drop-ins from both directories, merged in name order; etc's 20-x hides usr's 20-x
  write('usr/b.image.d/10-path.yaml', 'path: /img/b-10\n');
  write('etc/b.image.d/20-x.yaml', 'description: from etc\n');
  write('usr/b.image.d/20-x.yaml', 'description: from usr\n');
  write('usr/b.image.d/05-first.yaml', 'description: first\npath: /img/b-05\n');
  write('usr/b.image.d/README', 'ignored');
  // a multi-document file
  write('multi/m.yaml', `${image('m1')}---\n${image('m2')}`);
  write('root/img/from-etc', '');
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadUnits', () => {
  it('defaults to the three system directories, highest first', () => {
    expect(DEFAULT_UNIT_DIRECTORIES).toEqual(['/etc/crtos/units', '/run/crtos/units', '/usr/lib/crtos/units']);
  });

  it('lets a higher directory hide the same-named file of a lower one, and applies drop-ins from all in name order', async () => {
    const r = await loadUnits({ directories: ['etc', 'usr'], cwd: tmp });
    expect(r.problems).toEqual([]);
    const set = r.set!;
    expect([...set.units.keys()]).toEqual(['a.image', 'b.image']);
    const a = set.units.get('a.image')!;
    expect(specOf(a, 'Image').path).toBe('/img/from-etc');
    expect(a.source.file).toBe(join('etc', 'a.yaml'));
    const b = set.units.get('b.image')!;
    expect(b.spec.description).toBe('from etc');
    expect(specOf(b, 'Image').path).toBe('/img/b-10');
    expect(b.source.dropIns).toEqual([join('usr', 'b.image.d', '05-first.yaml'), join('usr', 'b.image.d', '10-path.yaml'), join('etc', 'b.image.d', '20-x.yaml')]);
    expect(set.directories).toEqual(['etc', 'usr']);
    expect(r.sources.get(join('etc', 'a.yaml'))).toContain('from-etc');
  });

  it('reads several documents per file, and a single file given as a directory', async () => {
    const r = await loadUnits({ directories: [join(tmp, 'multi', 'm.yaml')] });
    expect([...r.set!.units.keys()]).toEqual(['m1.image', 'm2.image']);
  });

  it('skips directories that do not exist, or reports them when asked to', async () => {
    const skipped = await loadUnits({ directories: ['nope', 'etc'], cwd: tmp });
    expect([...skipped.set!.units.keys()]).toEqual(['a.image']);
    const r = await loadUnits({ directories: ['nope'], cwd: tmp, requireDirectories: true });
    expect(r.set).toBeUndefined();
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_DIRECTORY_MISSING', file: 'nope' })]);
  });

  it('checks files under --root, pointing into the file that set the path', async () => {
    const r = await loadUnits({ directories: ['etc'], cwd: tmp, root: join(tmp, 'root') });
    // etc/ has a drop-in for b.image but not the unit: only a warning
    expect(r.problems.map((p) => [p.code, p.severity])).toEqual([['UNIT_DROPIN_ORPHAN', 'warning']]);
    expect(r.set).toBeDefined();
    const missing = await loadUnits({ directories: ['usr'], cwd: tmp, root: join(tmp, 'root') });
    expect(missing.set).toBeUndefined();
    expect(missing.problems.map((p) => [p.code, p.unit, p.file, p.line])).toEqual([
      ['UNIT_FILE_MISSING', 'a.image', join('usr', 'a.yaml'), 3],
      ['UNIT_FILE_MISSING', 'b.image', join('usr', 'b.image.d', '10-path.yaml'), 1],
    ]);
  });

  it('follows symbolic links to unit files', async () => {
    write('linked/real/x.yaml', image('x'));
    mkdirSync(join(tmp, 'linked/dir'), { recursive: true });
    symlinkSync(join(tmp, 'linked/real/x.yaml'), join(tmp, 'linked/dir/x.yaml'));
    const r = await loadUnits({ directories: ['linked/dir'], cwd: tmp });
    expect([...r.set!.units.keys()]).toEqual(['x.image']);
  });
});
