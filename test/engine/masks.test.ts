/** The mask files: symlinks to /dev/null named after the unit, persistent and runtime, as systemd's. */
import { afterEach, describe, expect, test } from 'vitest';
import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileMaskStore, memoryMaskStore } from '../../src/engine/masks.js';
import { isProblemError } from '../../src/errors/problem.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function store() {
  dir = mkdtempSync(join(tmpdir(), 'crtos-masks-'));
  const dirs = { persistent: join(dir, 'etc/crtos/mask'), runtime: join(dir, 'run/crtos/mask') };
  return { dirs, masks: fileMaskStore(dirs) };
}

describe('fileMaskStore', () => {
  test('a mask is a symlink to /dev/null in its scope\'s directory (made when missing); masking twice changes nothing', () => {
    const { dirs, masks } = store();
    expect(masks.mask('nuttx.cell', 'persistent')).toEqual([{ type: 'symlink', file: join(dirs.persistent, 'nuttx.cell'), destination: '/dev/null' }]);
    expect(lstatSync(join(dirs.persistent, 'nuttx.cell')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dirs.persistent, 'nuttx.cell'))).toBe('/dev/null');
    expect(masks.mask('nuttx.cell', 'persistent')).toEqual([]);
    expect(existsSync(dirs.runtime)).toBe(false);
    expect(masks.load()).toEqual(new Map([['nuttx.cell', 'persistent']]));
  });

  test('unmask removes only its scope\'s mask; a unit masked in both scopes reads as runtime', () => {
    const { dirs, masks } = store();
    masks.mask('hello.loader', 'persistent');
    masks.mask('hello.loader', 'runtime');
    expect(masks.load().get('hello.loader')).toBe('runtime');
    expect(masks.unmask('hello.loader', 'runtime')).toEqual([{ type: 'unlink', file: join(dirs.runtime, 'hello.loader'), destination: '' }]);
    expect(masks.load()).toEqual(new Map([['hello.loader', 'persistent']]));
    expect(masks.unmask('hello.loader', 'runtime')).toEqual([]);
    masks.unmask('hello.loader', 'persistent');
    expect(masks.load().size).toBe(0);
  });

  test('a mask made by hand counts; a file there that is no symlink to /dev/null is no mask', () => {
    const { dirs, masks } = store();
    mkdirSync(dirs.persistent, { recursive: true });
    symlinkSync('/dev/null', join(dirs.persistent, 'by-hand.loader'));
    writeFileSync(join(dirs.persistent, 'notes.loader'), 'not a mask\n');
    symlinkSync('/etc/hostname', join(dirs.persistent, 'elsewhere.loader'));
    expect(masks.load()).toEqual(new Map([['by-hand.loader', 'persistent']]));
  });

  test('a directory crtosd cannot make is ENGINE_MASK_STORE, naming the file and the option', () => {
    dir = mkdtempSync(join(tmpdir(), 'crtos-masks-'));
    // A file where the directory should be: refused for root too (ENOTDIR), unlike a mode.
    writeFileSync(join(dir, 'etc'), '');
    const persistent = join(dir, 'etc/crtos/mask');
    const masks = fileMaskStore({ persistent, runtime: join(dir, 'run') });
    try {
      masks.mask('nuttx.cell', 'persistent');
      expect.unreachable();
    } catch (e) {
      expect(isProblemError(e)).toBe(true);
      const p = (e as { problems: { code: string; file?: string; hint?: string }[] }).problems[0]!;
      expect(p).toMatchObject({ code: 'ENGINE_MASK_STORE', file: join(persistent, 'nuttx.cell') });
      expect(p.hint).toContain('--mask-dir');
    }
    expect(masks.load().size).toBe(0);
  });
});

describe('memoryMaskStore', () => {
  test('keeps masks per scope, as the file store does', () => {
    dir = mkdtempSync(join(tmpdir(), 'crtos-masks-'));
    const masks = memoryMaskStore();
    expect(masks.mask('a.loader', 'runtime')).toHaveLength(1);
    expect(masks.mask('a.loader', 'runtime')).toEqual([]);
    masks.mask('b.cell', 'persistent');
    expect(masks.load()).toEqual(new Map([['b.cell', 'persistent'], ['a.loader', 'runtime']]));
    expect(masks.unmask('a.loader', 'persistent')).toEqual([]);
  });
});
