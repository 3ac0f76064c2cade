// Bundles every `src/**/NAME.entry.ts` into `dist/NAME.mjs`: one self-contained file per command,
// so a command starts by reading one file (crtosctl start-up time is a product goal) and the Debian
// package ships no node_modules. Each build's metafile goes to build/meta/ (`NAME.json`), so what
// lands in a bundle can be checked (bench/idle.bench.ts: the daemon's memory is a product goal).
import { build } from 'esbuild';
import { readdirSync, readFileSync, chmodSync, mkdirSync, writeFileSync, statSync, rmSync } from 'node:fs';
import { join, basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

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

// zod 4 re-exports all its ~50 message locales (`z.locales`) from its main module, which keeps
// ~360 KB of translations in every bundle that uses zod. crtos only ever uses the English messages
// zod installs by default, so the locales barrel is replaced by one exporting `en` alone.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir) ? { path: 'zod-locales', namespace: 'zod-english-only' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: root,
      loader: 'js',
    }));
  },
};

const common = {
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [zodEnglishOnly],
  // dbus-next optionally loads the native `usocket` addon; without it it falls back to net sockets.
  // dbus-next requires `x11` only to find a session bus from an X display, which we never do.
  external: ['usocket', 'x11'],
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __crtosCreateRequire } from 'node:module';",
      'const require = __crtosCreateRequire(import.meta.url);',
    ].join('\n'),
  },
};

// crtosctl is one file for every verb that talks to crtosd: Node loads each ES module file with
// its own resolve, read and compile steps, and `crtosctl status` start-up is a product goal
// (bench/status.bench.ts). Only the verbs that need the unit schemas and the .cell codec (zod and
// friends, ~700 KB) are left out, as separate files under dist/chunks/ that crtosctl imports when
// one of them is run. Those import the error classes crtosctl checks with instanceof (ProblemError,
// UsageError) from dist/crtosctl.mjs itself, which re-exports them, so the classes are one and the
// same; their shared chunks have content-hash names, so a rebuild rewrites the same files.
// crtosd is minified: the long-running daemon keeps its whole source text in memory for its
// lifetime, and much of it is whitespace and long names (idle RSS is a product goal). keepNames
// keeps class and function names for error output; the linked source map keeps stack traces
// readable with `node --enable-source-maps`. The other commands stay plain single files.
const CTL = 'crtosctl';
const CTL_LAZY_VERBS = ['validate', 'cell-config'];
const MINIFY = new Set(['crtosd']);
const pick = (want) => Object.fromEntries(Object.entries(entryPoints).filter(([name]) => want(name)));

const ctlLazyVerbs = {
  name: 'crtosctl-lazy-verbs',
  setup(b) {
    b.onResolve({ filter: /^\.\/verbs\/[a-z-]+\.js$/ }, (args) => {
      const verb = args.path.slice('./verbs/'.length, -'.js'.length);
      return CTL_LAZY_VERBS.includes(verb) ? { path: `./chunks/${CTL}-${verb}.mjs`, external: true } : undefined;
    });
  },
};
const ctlSharedClasses = {
  name: 'crtosctl-shared-classes',
  setup(b) {
    const shared = ['src/errors/problem.js', 'src/cli/context.js'].map((f) => join(root, f));
    b.onResolve({ filter: /(problem|context)\.js$/ }, (args) =>
      shared.includes(join(args.resolveDir, args.path)) ? { path: `../${CTL}.mjs`, external: true } : undefined,
    );
  },
};

const buildStarted = Date.now();
const results = {
  plain: await build({ ...common, entryPoints: pick((n) => n !== CTL && !MINIFY.has(n)) }),
  minified: await build({ ...common, entryPoints: pick((n) => MINIFY.has(n)), minify: true, keepNames: true }),
  // No createRequire banner: crtosctl's own code bundles no CommonJS, and importing node:module and
  // reading import.meta.url would load parts of Node that `crtosctl status` does not otherwise use.
  ctl: await build({ ...common, entryPoints: pick((n) => n === CTL), plugins: [...common.plugins, ctlLazyVerbs], banner: { js: '#!/usr/bin/env node' }, minify: true }),
  ctlLazy: await build({
    ...common,
    entryPoints: Object.fromEntries(CTL_LAZY_VERBS.map((v) => [`chunks/${CTL}-${v}`, join(root, 'src/cli/verbs', `${v}.ts`)])),
    plugins: [...common.plugins, ctlSharedClasses],
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
  }),
};

if (readFileSync(join(dist, `${CTL}.mjs`), 'utf8').includes('__require(')) {
  throw new Error(`dist/${CTL}.mjs bundles CommonJS code that needs require(); give it the createRequire banner again`);
}

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
