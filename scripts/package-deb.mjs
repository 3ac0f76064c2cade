// `npm run package:deb`: a Debian package of crtosd built with dpkg-deb: crtosd and crtosctl
// bundled afresh with esbuild (no node_modules, no source maps, only the chunks they use), the
// systemd service, the bus policy, man pages and the example units.
// Output: build/crtosd_VERSION_all.deb (or --out DIR).
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, lstatSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { buildCrtosd, buildCrtosctl, commonOptions } from './bundles.mjs';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const outDir = outAt >= 0 && args[outAt + 1] ? args[outAt + 1] : join(root, 'build');

function fail(message) {
  console.error(`package-deb: ${message}`);
  process.exit(1);
}

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const commands = { crtosd: 'src/daemon/crtosd.entry.ts', crtosctl: 'src/cli/crtosctl.entry.ts' };
for (const entry of Object.values(commands)) if (!existsSync(join(root, entry))) fail(`${entry} is missing`);

const stage = join(outDir, 'deb', `crtosd_${version}_all`);
rmSync(stage, { recursive: true, force: true });
const put = (rel, mode = 0o644) => {
  const to = join(stage, rel);
  mkdirSync(dirname(to), { recursive: true });
  return { to, done: () => chmodSync(to, mode) };
};
const copy = (from, rel, mode = 0o644) => {
  const { to, done } = put(rel, mode);
  copyFileSync(join(root, from), to);
  done();
};
const write = (rel, text, mode = 0o644) => {
  const { to, done } = put(rel, mode);
  writeFileSync(to, text);
  done();
};

// The commands: bundles under /usr/lib/crtosd (as scripts/build.mjs makes them, minus source
// maps), linked from /usr/bin.
const libDir = join(stage, 'usr/lib/crtosd');
// Bundled as scripts/build.mjs bundles them (scripts/bundles.mjs), minus source maps.
const bundleOptions = commonOptions({ outdir: libDir });
await buildCrtosd(bundleOptions, { crtosd: join(root, commands.crtosd) });
await buildCrtosctl(bundleOptions, join(root, commands.crtosctl));
mkdirSync(join(stage, 'usr/bin'), { recursive: true });
for (const c of Object.keys(commands)) {
  chmodSync(join(libDir, `${c}.mjs`), 0o755);
  symlinkSync(`../lib/crtosd/${c}.mjs`, join(stage, 'usr/bin', c));
}
copy('packaging/systemd/crtosd.service', 'usr/lib/systemd/system/crtosd.service');
copy('packaging/dbus/org.crtos.Manager1.conf', 'usr/share/dbus-1/system.d/org.crtos.Manager1.conf');
for (const [page, section] of [['crtosctl', 1], ['crtosd', 8]]) {
  // gzip with mtime 0 (zlib's default header) keeps the package reproducible.
  const { to, done } = put(`usr/share/man/man${section}/${page}.${section}.gz`);
  writeFileSync(to, gzipSync(readFileSync(join(root, 'packaging/man', `${page}.${section}`)), { level: 9 }));
  done();
}
copy('packaging/debian/copyright', 'usr/share/doc/crtosd/copyright');
cpSync(join(root, 'units'), join(stage, 'usr/share/doc/crtosd/examples/units'), { recursive: true });
mkdirSync(join(stage, 'etc/crtos/units'), { recursive: true });

// DEBIAN/: control with the installed size, maintainer scripts, md5sums.
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    return e.isDirectory() ? walk(full) : [full];
  });
}
const files = walk(stage).filter((f) => !relative(stage, f).startsWith('DEBIAN'));
const sizeKiB = Math.ceil(files.reduce((n, f) => n + lstatSync(f).size, 0) / 1024);
const control = readFileSync(join(root, 'packaging/debian/control.in'), 'utf8').replace('@VERSION@', version).replace('@INSTALLED_SIZE@', String(sizeKiB));
write('DEBIAN/control', control);
for (const script of ['postinst', 'prerm', 'postrm']) copy(`packaging/debian/${script}`, `DEBIAN/${script}`, 0o755);
const md5 = files
  .filter((f) => lstatSync(f).isFile())
  .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(stage, f)}`)
  .join('\n');
write('DEBIAN/md5sums', md5 + '\n');

mkdirSync(outDir, { recursive: true });
const deb = join(outDir, `crtosd_${version}_all.deb`);
const r = spawnSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], { encoding: 'utf8' });
if (r.error) fail(`cannot run dpkg-deb: ${r.error.message}`);
if (r.status !== 0) fail(`dpkg-deb failed:\n${r.stderr}`);
console.log(deb);
