// Bundles every `src/**/NAME.entry.ts` into `dist/NAME.mjs`: one self-contained file per command,
// so a command starts by reading one file (crtosctl start-up time is a product goal) and the Debian
// package ships no node_modules.
import { build } from 'esbuild';
import { readdirSync, chmodSync } from 'node:fs';
import { join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

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

const common = {
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
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

// crtosctl is split: each lazily imported verb and what it alone needs goes into
// dist/chunks/, so `crtosctl status` parses the status code and the D-Bus client, not the unit
// schemas and the .cell codec `validate` needs (start-up is a product goal; bench/status.bench.ts).
// Chunk names are content hashes: a rebuild rewrites the same files, so commands running from
// dist/ meanwhile keep working. The other commands stay single files.
const SPLIT = new Set(['crtosctl']);
const pick = (split) => Object.fromEntries(Object.entries(entryPoints).filter(([name]) => SPLIT.has(name) === split));

await build({ ...common, entryPoints: pick(false) });
await build({ ...common, entryPoints: pick(true), splitting: true, chunkNames: 'chunks/[name]-[hash]' });

for (const name of Object.keys(entryPoints)) chmodSync(join(root, 'dist', `${name}.mjs`), 0o755);
