// Bundles every `src/**/NAME.entry.ts` into `dist/NAME.mjs`: one self-contained file per command,
// so a command starts by reading one file (crtosctl start-up time is a product goal) and the Debian
// package ships no node_modules. Each build's metafile goes to build/meta/ (`NAME.json`), so what
// lands in a bundle can be checked (bench/idle.bench.ts: the daemon's memory is a product goal).
import { build } from 'esbuild';
import { readdirSync, chmodSync, mkdirSync, writeFileSync, statSync, rmSync } from 'node:fs';
import { join, basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commonOptions, buildCrtosd, buildCrtosctl } from './bundles.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

function findEntries(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findEntries(full));
    else if (entry.name.endsWith('.entry.ts')) out.push(full);
  }
  return out;
}

const entries = findEntries(join(root, 'src'));
const entryPoints = Object.fromEntries(entries.map((f) => [basename(f, '.entry.ts'), f]));

// crtosd and crtosctl are bundled as scripts/bundles.mjs says (minified daemon; crtosctl one file
// for the daemon verbs plus lazily imported chunks); the other commands stay plain single files.
const common = commonOptions({ outdir: dist, sourcemap: true, metafile: true });
const SPECIAL = new Set(['crtosd', 'crtosctl']);
const pick = (want) => Object.fromEntries(Object.entries(entryPoints).filter(([name]) => want(name)));

const buildStarted = Date.now();
const ctl = await buildCrtosctl(common, entryPoints.crtosctl);
const results = {
  plain: await build({ ...common, entryPoints: pick((n) => !SPECIAL.has(n)) }),
  crtosd: await buildCrtosd(common, pick((n) => n === 'crtosd')),
  crtosctl: ctl.main,
  'crtosctl-lazy': ctl.lazy,
};

mkdirSync(join(root, 'build', 'meta'), { recursive: true });
for (const [name, { metafile }] of Object.entries(results)) writeFileSync(join(root, 'build', 'meta', `${name}.json`), JSON.stringify(metafile));
for (const name of Object.keys(entryPoints)) chmodSync(join(dist, `${name}.mjs`), 0o755);

// Chunk names change with their content, so old ones pile up in dist/chunks/. Only after the new
// build is written, delete the chunk files it does not list. A file written since this build
// started is kept even when unlisted: it belongs to a build running at the same time (several
// test runs share dist/), whose entry file may be the one now on disk.
const written = new Set(Object.values(results).flatMap(({ metafile }) => Object.keys(metafile.outputs).map((o) => relative(dist, join(root, o)))));
const chunksDir = join(dist, 'chunks');
for (const file of readdirSync(chunksDir)) {
  const path = join(chunksDir, file);
  if (written.has(relative(dist, path))) continue;
  try {
    if (statSync(path).mtimeMs < buildStarted) rmSync(path, { force: true });
  } catch {
    // removed meanwhile by another build's clean-up
  }
}
