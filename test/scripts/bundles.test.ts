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
  CTL_LAZY_FILE: string;
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

  /** Runs crtosctl; returns what Node loaded by then: its internal modules, and our files. */
  async function loads(args: string[]): Promise<{ code: number; stderr: string; internal: string[]; files: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'crtos-bundles-'));
    try {
      const record = join(dir, 'record.cjs');
      const loaded = join(dir, 'loaded.json');
      writeFileSync(record, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, JSON.stringify({ internal: process.moduleLoadList, files: Object.keys(require.cache) })));`);
      const r = await run(['--require', record, join(dist, bundles.CTL_FILE), ...args]);
      const { internal, files } = JSON.parse(readFileSync(loaded, 'utf8')) as { internal: string[]; files: string[] };
      return { ...r, internal, files: files.filter((f) => f !== record) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('is CommonJS, so Node runs it without loading its ES module loader', async () => {
    expect(ctl).not.toMatch(/(^|[;}\s])import\s*[^("'\s][^;]*?from\s*["']/m);
    const r = await loads(['--version']);
    expect(r.code).toBe(0);
    expect(r.internal).toContain('NativeModule internal/modules/cjs/loader');
    expect(r.internal).not.toContain('NativeModule internal/modules/esm/loader');
  });

  it(`loads no other file of ours for the daemon verbs, and ${bundles.CTL_LAZY_FILE} for the lazy ones`, async () => {
    expect(ctl).not.toMatch(/(^|[;}\s])import\s*\(?\s*["']\./m);
    expect(new Set(ctl.match(/require\("\.[^"]*"\)/g))).toEqual(new Set([`require("./${bundles.CTL_LAZY_FILE}")`]));
    const status = await loads(['--bus', 'unix:path=/nonexistent', 'status']);
    expect(status.code).toBe(1);
    expect(status.files).toEqual([join(dist, bundles.CTL_FILE)]);
  });

  it(`lazy verbs share ${bundles.CTL_FILE}'s error classes: a usage error in validate exits 2`, async () => {
    expect(readFileSync(join(dist, bundles.CTL_LAZY_FILE), 'utf8')).toContain(`require("../${bundles.CTL_FILE}")`);
    const r = await loads(['validate', '--no-such-option']);
    expect(r.files.sort()).toEqual([join(dist, bundles.CTL_FILE), join(dist, bundles.CTL_LAZY_FILE)].sort());
    expect(r).toMatchObject({ code: 2 });
    expect(r.stderr).toContain("crtosctl validate: unknown option '--no-such-option'");
  });
});
