// Bundles every `src/**/NAME.entry.ts` into `dist/NAME.mjs` (crtosctl into dist/crtosctl.cjs, as
// scripts/bundles.mjs says): one self-contained file per command, so a command starts by reading
// one file (crtosctl start-up time is a product goal) and the Debian package ships no
// node_modules. Each build's metafile goes to build/meta/ (`NAME.json`), so what lands in a bundle
// can be checked (bench/idle.bench.ts: the daemon's memory is a product goal).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readdirSync, chmodSync, mkdirSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commonOptions, buildCrtosd, buildCrtosctl, removeStaleChunks, CTL_FILE } from './bundles.mjs';

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

// crtosd and crtosctl are bundled as scripts/bundles.mjs says (minified daemon; crtosctl one
// CommonJS file for the daemon verbs plus one it requires for the others); the other commands stay
// plain single files.
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
for (const name of Object.keys(entryPoints)) chmodSync(join(dist, name === 'crtosctl' ? CTL_FILE : `${name}.mjs`), 0o755);

// Only now that the new build is on disk: chunk files it does not list are left over from older ones.
removeStaleChunks(dist, Object.values(results).map((r) => r.metafile), buildStarted);

// The simulator's stand-in client (src/sim/client/crtos-sim-client.c): a stand-in invocation then
// costs what a C tool costs. Without a C compiler the machines' wrappers run the Node.js tools.
// Built next to the old binary and renamed over it: a running client cannot be overwritten.
const client = join(dist, 'crtos-sim-client');
const clientTmp = `${client}.${process.pid}.tmp`;
const cc = spawnSync(process.env.CC || 'cc', ['-O2', '-Wall', '-o', clientTmp, join(root, 'src/sim/client/crtos-sim-client.c')], { stdio: 'inherit' });
if (cc.status === 0) renameSync(clientTmp, client);
else {
  rmSync(clientTmp, { force: true });
  rmSync(client, { force: true });
  console.warn(cc.error ? 'no C compiler: the simulator\'s stand-ins run on Node.js' : 'the stand-in client did not compile: the simulator\'s stand-ins run on Node.js');
}
