import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '../..');
const dist = join(root, 'dist');
type Metafile = { outputs: Record<string, unknown> };
const bundles = (await import(pathToFileURL(join(root, 'scripts/bundles.mjs')).href)) as {
  removeStaleChunks(outdir: string, metafiles: Metafile[], buildStarted: number): string[];
  CTL_LAZY_VERBS: string[];
  CTL_FILE: string;
};

function run(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, (e, _stdout, stderr) => resolve({ code: typeof e?.code === 'number' ? e.code : 0, stderr }));
  });
}

describe('removeStaleChunks', () => {
  it('deletes only chunk files the new build does not list and that predate it', () => {
    const out = mkdtempSync(join(tmpdir(), 'crtos-bundles-'));
    try {
      const chunks = join(out, 'chunks');
      mkdirSync(chunks);
      for (const f of ['kept-NEW.mjs', 'old-A.mjs', 'old-A.mjs.map', 'other-build-B.mjs']) writeFileSync(join(chunks, f), '');
      const buildStarted = Date.now() - 1000;
      const before = new Date(buildStarted - 60_000);
      for (const f of ['kept-NEW.mjs', 'old-A.mjs', 'old-A.mjs.map']) utimesSync(join(chunks, f), before, before);
      const removed = bundles.removeStaleChunks(out, [{ outputs: { [join(chunks, 'kept-NEW.mjs')]: {} } }], buildStarted);
      expect(removed.sort()).toEqual(['old-A.mjs', 'old-A.mjs.map']);
      expect(readdirSync(chunks).sort()).toEqual(['kept-NEW.mjs', 'other-build-B.mjs']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('accepts an output directory without chunks', () => {
    expect(bundles.removeStaleChunks(join(tmpdir(), 'crtos-no-such-dir'), [], Date.now())).toEqual([]);
  });
});

describe(`dist/${bundles.CTL_FILE} layout`, () => {
  const ctl = readFileSync(join(dist, bundles.CTL_FILE), 'utf8');

  it('is CommonJS, so Node runs it without loading its ES module loader', async () => {
    expect(ctl).not.toMatch(/(^|[;}\s])import\s*[^("'\s][^;]*?from\s*["']/m);
    const dir = mkdtempSync(join(tmpdir(), 'crtos-bundles-'));
    try {
      // Preloaded (as CommonJS): writes the internal modules Node loaded, as crtosctl exits.
      const loaded = join(dir, 'loaded.txt');
      writeFileSync(join(dir, 'record.cjs'), `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, process.moduleLoadList.join('\\n')));`);
      expect(await run(['--require', join(dir, 'record.cjs'), join(dist, bundles.CTL_FILE), '--version'])).toMatchObject({ code: 0 });
      const modules = readFileSync(loaded, 'utf8').split('\n');
      expect(modules).toContain('NativeModule internal/modules/cjs/loader');
      expect(modules).not.toContain('NativeModule internal/modules/esm/loader');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requires and imports no other file of ours, so the daemon verbs load one module', () => {
    expect(ctl).not.toMatch(/require\(\s*["']\./);
    expect(ctl).not.toMatch(/(^|[;}\s])import\s*["']\./m);
    for (const verb of bundles.CTL_LAZY_VERBS) expect(ctl).toContain(`import("./chunks/crtosctl-${verb}.mjs")`);
  });

  it(`lazy verbs share ${bundles.CTL_FILE}'s error classes: a usage error in validate exits 2`, async () => {
    for (const verb of bundles.CTL_LAZY_VERBS) expect(readFileSync(join(dist, 'chunks', `crtosctl-${verb}.mjs`), 'utf8')).toContain(`"../${bundles.CTL_FILE}"`);
    const r = await run([join(dist, bundles.CTL_FILE), 'validate', '--no-such-option']);
    expect(r).toMatchObject({ code: 2 });
    expect(r.stderr).toContain("crtosctl validate: unknown option '--no-such-option'");
  });
});
