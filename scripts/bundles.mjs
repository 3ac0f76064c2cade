// How crtos's commands are bundled, shared by scripts/build.mjs (dist/) and
// scripts/package-deb.mjs (the Debian package), so the package ships what the benchmarks measure.
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

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

const SHEBANG = '#!/usr/bin/env node';

/** esbuild options every command shares; `sourcemap` and `metafile` as the caller wants them. */
export function commonOptions({ outdir, sourcemap = false, metafile = false }) {
  return {
    outdir,
    // Metafile paths are relative to this, whatever the caller's working directory.
    absWorkingDir: root,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    ...(sourcemap ? { sourcemap: 'linked' } : {}),
    metafile,
    logLevel: 'warning',
    plugins: [zodEnglishOnly],
    // dbus-next optionally loads the native `usocket` addon; without it it falls back to net sockets.
    // dbus-next requires `x11` only to find a session bus from an X display, which we never do.
    external: ['usocket', 'x11'],
    banner: {
      js: [SHEBANG, "import { createRequire as __crtosCreateRequire } from 'node:module';", 'const require = __crtosCreateRequire(import.meta.url);'].join('\n'),
    },
  };
}

/**
 * crtosd, minified: the long-running daemon keeps its whole source text in memory for its
 * lifetime, and much of it is whitespace and long names (idle RSS is a product goal). keepNames
 * keeps class and function names for error output; a linked source map (when asked for) keeps
 * stack traces readable with `node --enable-source-maps`.
 */
export function buildCrtosd(common, entries) {
  return build({ ...common, entryPoints: entries, minify: true, keepNames: true });
}

const CTL = 'crtosctl';
/** crtosctl's main file, in dist/ and in the package's /usr/lib/crtosd (see buildCrtosctl). */
export const CTL_FILE = `${CTL}.cjs`;
/** The verbs that need the unit schemas and the .cell codec (zod and friends, ~700 KB). */
export const CTL_LAZY_VERBS = ['validate', 'cell-config', 'facts', 'edit'];
/** The one file with CTL_LAZY_VERBS, beside CTL_FILE. */
export const CTL_LAZY_FILE = `chunks/${CTL}-lazy-verbs.cjs`;

/**
 * crtosctl is one file for every verb that talks to crtosd: each file Node loads costs its own
 * resolve, read and compile steps, and `crtosctl status` start-up is a product goal
 * (bench/status.bench.ts). That file is CommonJS (CTL_FILE): Node runs a CommonJS main file without
 * its ES module loader, about 20 internal modules that `crtosctl status` would otherwise load and
 * run before its first line. Only CTL_LAZY_VERBS are left out, together in one CommonJS file
 * (CTL_LAZY_FILE) that crtosctl requires when one of them is run: one file because they share
 * most of their code, and CommonJS because ES module chunks imported from the CommonJS crtosctl
 * cost `crtosctl validate` about a third more CPU (the ES module loader started late, a dozen
 * chunk files). It requires the error classes crtosctl tests with instanceof (ProblemError,
 * UsageError) from CTL_FILE itself, which exports them; Node's module cache hands it the running
 * crtosctl's own exports, so the classes are one and the same. Returns both esbuild results.
 */
export async function buildCrtosctl(common, entry) {
  const cjs = { ...common, format: 'cjs', outExtension: { '.js': '.cjs' } };
  // In crtosctl, each lazy verb's module is one line that requires CTL_LAZY_FILE when the verb runs.
  const lazyVerbs = {
    name: 'crtosctl-lazy-verbs',
    setup(b) {
      b.onResolve({ filter: /^\.\/verbs\/[a-z-]+\.js$/ }, (args) => {
        const verb = args.path.slice('./verbs/'.length, -'.js'.length);
        return CTL_LAZY_VERBS.includes(verb) ? { path: verb, namespace: 'crtosctl-lazy-verb' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'crtosctl-lazy-verb' }, (args) => ({
        contents: `export const { run } = require(${JSON.stringify(`./${CTL_LAZY_FILE}`)}).verbs[${JSON.stringify(args.path)}];`,
        loader: 'js',
      }));
      b.onResolve({ filter: /^\.\/chunks\// }, (args) => ({ path: args.path, external: true }));
    },
  };
  // CTL_LAZY_FILE's entry: the verbs by name.
  const lazyEntry = {
    name: 'crtosctl-lazy-entry',
    setup(b) {
      b.onResolve({ filter: /^crtosctl-lazy-verbs$/ }, () => ({ path: 'entry', namespace: 'crtosctl-lazy-entry' }));
      b.onLoad({ filter: /.*/, namespace: 'crtosctl-lazy-entry' }, () => ({
        contents: [
          ...CTL_LAZY_VERBS.map((v, i) => `import * as verb${i} from './src/cli/verbs/${v}.js';`),
          `export const verbs = { ${CTL_LAZY_VERBS.map((v, i) => `${JSON.stringify(v)}: verb${i}`).join(', ')} };`,
        ].join('\n'),
        resolveDir: root,
        loader: 'ts',
      }));
    },
  };
  const sharedClasses = {
    name: 'crtosctl-shared-classes',
    setup(b) {
      const shared = ['src/errors/problem.js', 'src/cli/context.js'].map((f) => join(root, f));
      b.onResolve({ filter: /(problem|context)\.js$/ }, (args) =>
        shared.includes(join(args.resolveDir, args.path)) ? { path: `../${CTL_FILE}`, external: true } : undefined,
      );
    },
  };
  const main = await build({ ...cjs, entryPoints: { [CTL]: entry }, plugins: [...common.plugins, lazyVerbs], banner: { js: SHEBANG }, minify: true });
  const lazy = await build({
    ...cjs,
    entryPoints: { [CTL_LAZY_FILE.slice(0, -'.cjs'.length)]: 'crtosctl-lazy-verbs' },
    plugins: [...common.plugins, lazyEntry, sharedClasses],
    banner: {},
  });
  return { main, lazy };
}

/**
 * Files in `chunks/` under `outdir` that the build no longer writes (older builds' ES module chunks,
 * which had content-hash names; a renamed file) would otherwise stay there. Call this
 * only after the new build is written: it deletes the chunk files none of `metafiles` lists. A file
 * written since `buildStarted` (ms) is kept even when unlisted: it belongs to a build running at the
 * same time (several test runs share dist/), whose entry file may be the one now on disk.
 * Returns the names removed.
 */
export function removeStaleChunks(outdir, metafiles, buildStarted) {
  const chunksDir = join(outdir, 'chunks');
  if (!existsSync(chunksDir)) return [];
  const written = new Set(metafiles.flatMap((m) => Object.keys(m.outputs).map((o) => resolve(root, o))));
  const removed = [];
  for (const file of readdirSync(chunksDir)) {
    const path = join(chunksDir, file);
    if (written.has(path)) continue;
    try {
      if (statSync(path).mtimeMs >= buildStarted) continue;
      rmSync(path, { force: true });
      removed.push(file);
    } catch {
      // removed meanwhile by another build's clean-up
    }
  }
  return removed;
}
