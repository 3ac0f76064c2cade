// `npm run package:deb`: a Debian package of crtosd built with dpkg-deb: crtosd and crtosctl
// bundled afresh with esbuild (no node_modules, no source maps, only the chunks they use), the
// hardened systemd service, the bus policy, man pages, shell completions, the unit format's JSON
// Schemas and the example units, with the maintainer scripts of packaging/debian.
// Output: build/crtosd_VERSION_ARCH.deb (or --out DIR). ARCH is `all` while the bundles are plain
// JavaScript, the build machine's architecture as soon as a native addon (*.node) is shipped.
// Reproducible: every mtime is SOURCE_DATE_EPOCH (default: the date of the changelog's newest
// entry, as dpkg-buildpackage does), gzip files carry no name or time, ownership is root:root.
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { buildCrtosd, buildCrtosctl, commonOptions, CTL_FILE } from './bundles.mjs';
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

// The changelog's newest entry names the version (a native package: no Debian revision), the
// maintainer and the release date.
const changelog = readFileSync(join(root, 'packaging/debian/changelog'), 'utf8');
const head = /^crtosd \(([^)]+)\) [^;]+; urgency=\w+$/m.exec(changelog);
const trailer = /^ -- (.+ <[^>]+>) {2}(.+)$/m.exec(changelog);
if (!head || !trailer) fail('packaging/debian/changelog: its first entry needs a "crtosd (VERSION) DIST; urgency=U" line and a " -- NAME <ADDRESS>  DATE" line');
if (head[1] !== version) fail(`packaging/debian/changelog's newest entry is ${head[1]} but package.json says ${version}: add an entry for ${version}`);
const maintainer = trailer[1];
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.parse(trailer[2]) / 1000));
if (!Number.isInteger(epoch) || epoch < 0) fail(`no usable SOURCE_DATE_EPOCH (${process.env.SOURCE_DATE_EPOCH ?? trailer[2]})`);

const stage = join(outDir, 'deb', `crtosd_${version}`);
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
const write = (rel, content, mode = 0o644) => {
  const { to, done } = put(rel, mode);
  writeFileSync(to, content);
  done();
};
// gzip -9n: zlib writes no file name and a zero time, so the package stays reproducible.
const gzip = (content) => gzipSync(content, { level: 9 });

// The commands: bundles under /usr/lib/crtosd (as scripts/build.mjs makes them, minus source
// maps), linked from /usr/bin.
const libDir = join(stage, 'usr/lib/crtosd');
const bundleOptions = commonOptions({ outdir: libDir, metafile: true });
const daemonBuild = await buildCrtosd(bundleOptions, { crtosd: join(root, commands.crtosd) });
const ctlBuild = await buildCrtosctl(bundleOptions, join(root, commands.crtosctl));
const commandFiles = { crtosd: 'crtosd.mjs', crtosctl: CTL_FILE };
mkdirSync(join(stage, 'usr/bin'), { recursive: true });
for (const [c, file] of Object.entries(commandFiles)) {
  chmodSync(join(libDir, file), 0o755);
  symlinkSync(`../lib/crtosd/${file}`, join(stage, 'usr/bin', c));
}
// Every npm package bundled must be named in the copyright file.
const copyright = readFileSync(join(root, 'packaging/debian/copyright'), 'utf8');
const bundled = new Set();
for (const meta of [daemonBuild.metafile, ctlBuild.main.metafile, ctlBuild.lazy.metafile]) {
  for (const input of Object.keys(meta.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) bundled.add(m[1]);
  }
}
const unnamed = [...bundled].filter((p) => !copyright.includes(`node_modules/${p}/*`)).sort();
if (unnamed.length) fail(`packaging/debian/copyright names no "Files: node_modules/NAME/*" paragraph for the bundled ${unnamed.join(', ')}: add their copyright holders and license`);

copy('packaging/systemd/crtosd.service', 'usr/lib/systemd/system/crtosd.service');
// /usr/share/dbus-1/system.d is the package's place (dbus reads it after /etc/dbus-1/system.d,
// where an administrator's own policy goes), so the policy is no conffile.
copy('packaging/dbus/org.crtos.Manager1.conf', 'usr/share/dbus-1/system.d/org.crtos.Manager1.conf');
for (const [page, section] of [['crtosctl', 1], ['crtosd', 8]]) {
  write(`usr/share/man/man${section}/${page}.${section}.gz`, gzip(readFileSync(join(root, 'packaging/man', `${page}.${section}`))));
}
// The JSON Schemas as `npm run schemas` writes them (test/units/json-schema.test.ts keeps the
// committed files equal to that).
for (const name of readdirSync(join(root, 'schemas')).filter((n) => n.endsWith('.json'))) copy(`schemas/${name}`, `usr/share/crtos/schemas/${name}`);

// Shell completions, each written by the packaged crtosctl from its verb table.
const completions = { bash: 'usr/share/bash-completion/completions/crtosctl', zsh: 'usr/share/zsh/vendor-completions/_crtosctl', fish: 'usr/share/fish/vendor_completions.d/crtosctl.fish' };
for (const [shell, rel] of Object.entries(completions)) {
  const r = spawnSync(process.execPath, [join(libDir, CTL_FILE), 'completion', shell], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) {
    fail(`\`crtosctl completion ${shell}\` failed (exit ${r.status}), so the package would ship no ${shell} completion; crtosctl needs its completion verb (issue 15):\n${r.stderr}`);
  }
  write(rel, r.stdout);
}

// Documentation: the Debian changelog (a native package's is changelog.gz), copyright, the
// README and the example units.
write('usr/share/doc/crtosd/changelog.gz', gzip(changelog));
copy('packaging/debian/copyright', 'usr/share/doc/crtosd/copyright');
write('usr/share/doc/crtosd/README.md.gz', gzip(readFileSync(join(root, 'README.md'))));
cpSync(join(root, 'units'), join(stage, 'usr/share/doc/crtosd/examples/units'), { recursive: true });
const overrides = readFileSync(join(root, 'packaging/debian/lintian-overrides'), 'utf8');
if (overrides.split('\n').some((l) => l.trim() && !l.startsWith('#'))) write('usr/share/lintian/overrides/crtosd', overrides);
// The administrator's unit directory. The package ships no file under /etc, so it has no conffiles.
mkdirSync(join(stage, 'etc/crtos/units'), { recursive: true });

// DEBIAN/: control with the installed size, maintainer scripts, md5sums.
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    return e.isDirectory() ? walk(full) : [full];
  });
}
const files = walk(stage);
const native = files.some((f) => f.endsWith('.node'));
const arch = native ? spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim() : 'all';
if (!arch) fail('a native addon is shipped, but `dpkg --print-architecture` names no architecture');
const sizeKiB = Math.ceil(files.reduce((n, f) => n + lstatSync(f).size, 0) / 1024);
const control = readFileSync(join(root, 'packaging/debian/control.in'), 'utf8')
  .replace('@VERSION@', version)
  .replace('@ARCHITECTURE@', arch)
  .replace('@MAINTAINER@', maintainer)
  .replace('@INSTALLED_SIZE@', String(sizeKiB));
write('DEBIAN/control', control);
for (const script of ['postinst', 'prerm', 'postrm']) copy(`packaging/debian/${script}`, `DEBIAN/${script}`, 0o755);
const md5 = files
  .filter((f) => lstatSync(f).isFile())
  .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(stage, f)}`)
  .sort()
  .join('\n');
write('DEBIAN/md5sums', md5 + '\n');

// Every file, link and directory gets the same time; dpkg-deb also clamps to SOURCE_DATE_EPOCH.
const everything = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => [join(dir, e.name), ...(e.isDirectory() ? everything(join(dir, e.name)) : [])]);
for (const p of [stage, ...everything(stage)]) lutimesSync(p, epoch, epoch);

mkdirSync(outDir, { recursive: true });
const deb = join(outDir, `crtosd_${version}_${arch}.deb`);
const r = spawnSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], {
  encoding: 'utf8',
  env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
});
if (r.error) fail(`cannot run dpkg-deb: ${r.error.message}`);
if (r.status !== 0) fail(`dpkg-deb failed:\n${r.stderr}`);
console.log(deb);
