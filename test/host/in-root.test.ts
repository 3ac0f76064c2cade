import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot } from '../../src/host/in-root.js';
import { createLinuxHost } from '../../src/host/index.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A tree as an image has it: /lib/firmware/fw.bin → /usr/lib/firmware/fw.bin (absolute), /lib/modules → ../usr/lib/modules. */
function imageTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'crtos-in-root-'));
  roots.push(root);
  mkdirSync(join(root, 'usr/lib/firmware'), { recursive: true });
  mkdirSync(join(root, 'usr/lib/modules'), { recursive: true });
  mkdirSync(join(root, 'lib/firmware'), { recursive: true });
  writeFileSync(join(root, 'usr/lib/firmware/fw.bin'), 'image firmware');
  symlinkSync('/usr/lib/firmware/fw.bin', join(root, 'lib/firmware/fw.bin'));
  symlinkSync('../usr/lib/modules', join(root, 'lib/modules'));
  return root;
}

describe('resolveInRoot', () => {
  it('takes an absolute link target from the root, not from the host', () => {
    const root = imageTree();
    expect(resolveInRoot(root, '/lib/firmware/fw.bin')).toBe(join(root, 'usr/lib/firmware/fw.bin'));
  });

  it('follows a relative link from the directory the link is in', () => {
    const root = imageTree();
    expect(resolveInRoot(root, '/lib/modules/6.1/modules.dep')).toBe(join(root, 'usr/lib/modules/6.1/modules.dep'));
  });

  it('gives an existing file through relative links the same way (realpath inside the root)', () => {
    const root = imageTree();
    writeFileSync(join(root, 'usr/lib/modules/modules.dep'), '');
    expect(resolveInRoot(root, '/lib/modules/modules.dep')).toBe(join(root, 'usr/lib/modules/modules.dep'));
    expect(resolveInRoot(root, '/')).toBe(root);
  });

  it('never goes above the root, by .. in the path or in a link', () => {
    const root = imageTree();
    symlinkSync('../../../../etc', join(root, 'lib/up'));
    expect(resolveInRoot(root, '/../../etc/hostname')).toBe(join(root, 'etc/hostname'));
    expect(resolveInRoot(root, '/lib/up/hostname')).toBe(join(root, 'etc/hostname'));
  });

  it('keeps components that do not exist yet as written', () => {
    const root = imageTree();
    expect(resolveInRoot(root, '/run/crtos/new/../cell.json')).toBe(join(root, 'run/crtos/cell.json'));
  });

  it('gives up following a loop of links after 40, leaving the rest as written', () => {
    const root = imageTree();
    symlinkSync('b', join(root, 'a'));
    symlinkSync('a', join(root, 'b'));
    expect(resolveInRoot(root, '/a/x')).toMatch(new RegExp(`^${root}/[ab]/x$`));
  });
});

describe('LinuxHost under a root', () => {
  it("reads an image's file through an absolute link inside the image", async () => {
    const root = imageTree();
    const host = createLinuxHost({ root });
    expect(host.resolve('/lib/firmware/fw.bin')).toBe(join(root, 'usr/lib/firmware/fw.bin'));
  });

  it('resolves the machine root itself without walking it', () => {
    expect(createLinuxHost({ root: '/' }).resolve('/proc/../proc/modules')).toBe('/proc/modules');
  });
});
