// scripts/package-deb.mjs and what it ships: the package's metadata and file list, lintian's
// verdict, a second build byte for byte the same, the commands run from the unpacked package, and
// the package installed with dpkg into a scratch root (`dpkg --root --force-script-chrootless`,
// which runs the maintainer scripts outside the root with DPKG_ROOT set, as with the real
// deb-systemd-helper): the files land where the service, the bus, the shells and man look, the
// service passes systemd-analyze verify there, and remove and purge leave it clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { run } from '../dbus/helpers/run.js';
import { startPrivateBus, type PrivateBus } from '../dbus/helpers/private-bus.js';
import { FakeManager } from '../dbus/helpers/fake-manager.js';
import { startDbusService, type DbusServiceHandle } from '../../src/dbus/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHANGELOG = readFileSync(join(ROOT, 'packaging/debian/changelog'), 'utf8');
let dir: string;
let deb: string;
let unpacked: string;

const buildDeb = async (out: string): Promise<string> => {
  const r = await run(process.execPath, [join(ROOT, 'scripts/package-deb.mjs'), '--out', out], { timeoutMs: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crtos-deb-'));
  deb = await buildDeb(join(dir, 'out'));
  unpacked = join(dir, 'unpacked');
  expect((await run('dpkg-deb', ['-x', deb, unpacked])).code).toBe(0);
}, 90_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `dpkg-deb --contents` as {mode, owner, date, path} (path with " -> target" for a link). */
async function contents(): Promise<{ mode: string; owner: string; date: string; path: string }[]> {
  const r = await run('dpkg-deb', ['--contents', deb], { env: { ...process.env, TZ: 'UTC' } });
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => {
      const [mode, owner, , day, time, ...path] = l.split(/\s+/);
      return { mode: mode!, owner: owner!, date: `${day} ${time}`, path: path.join(' ') };
    });
}

describe('the Debian package', () => {
  it('names itself, its maintainer and what crtosd runs as dependencies', async () => {
    const r = await run('dpkg-deb', ['--info', deb]);
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(r.stdout).toMatch(/^ Package: crtosd$/m);
    expect(r.stdout).toContain(`\n Version: ${version}\n`);
    expect(r.stdout).toMatch(/^ Architecture: all$/m);
    // The maintainer is the changelog's, the git author of the project.
    expect(r.stdout).toContain('\n Maintainer: Seed 10b599f5 maintainers <maintainers@users.noreply.h-seed-10b599f5.example>\n');
    expect(CHANGELOG).toContain(' -- Seed 10b599f5 maintainers <maintainers@users.noreply.h-seed-10b599f5.example>  ');
    // procps: /bin/kill, the service's ExecReload= (priority important, not essential: minimal
    // images lack it).
    expect(r.stdout).toMatch(/^ Depends: nodejs \(>= 20\.19\), kmod, iproute2, util-linux \(>= 2\.25\), procps, default-dbus-system-bus \| dbus-system-bus, adduser$/m);
    expect(r.stdout).toMatch(/^ Section: admin$/m);
    for (const member of ['postinst', 'prerm', 'postrm', 'md5sums']) expect(r.stdout).toMatch(new RegExp(`lines\\s+\\*?\\s+${member}\\s`));
    // Nothing under /etc but a directory: no conffiles.
    expect(r.stdout).not.toContain('conffiles');
  });

  it('holds the commands, service, bus policy, man pages, completions, schemas and docs', async () => {
    const paths = (await contents()).map((e) => e.path);
    for (const p of [
      './usr/lib/crtosd/crtosd.mjs',
      './usr/lib/crtosd/crtosctl.cjs',
      './usr/lib/crtosd/chunks/crtosctl-lazy-verbs.cjs',
      './usr/bin/crtosd -> ../lib/crtosd/crtosd.mjs',
      './usr/bin/crtosctl -> ../lib/crtosd/crtosctl.cjs',
      './usr/lib/systemd/system/crtosd.service',
      './usr/share/dbus-1/system.d/org.crtos.Manager1.conf',
      './usr/share/man/man1/crtosctl.1.gz',
      './usr/share/man/man8/crtosd.8.gz',
      './usr/share/bash-completion/completions/crtosctl',
      './usr/share/zsh/vendor-completions/_crtosctl',
      './usr/share/fish/vendor_completions.d/crtosctl.fish',
      './usr/share/crtos/schemas/unit.schema.json',
      './usr/share/crtos/schemas/dropin.schema.json',
      './usr/share/doc/crtosd/changelog.gz',
      './usr/share/doc/crtosd/copyright',
      './usr/share/doc/crtosd/README.md.gz',
      './usr/share/doc/crtosd/examples/units/crtos/nuttx.yaml',
      './usr/share/lintian/overrides/crtosd',
      './etc/crtos/units/',
    ]) {
      expect(paths).toContain(p);
    }
    expect(paths.some((p) => p.includes('node_modules') || p.endsWith('.map'))).toBe(false);
  });

  it('is owned by root, dated by the changelog, executable only where it is a command', async () => {
    const entries = await contents();
    const released = new Date(/^ -- .+ {2}(.+)$/m.exec(CHANGELOG)![1]!);
    const date = released.toISOString().slice(0, 16).replace('T', ' ');
    expect(entries.filter((e) => e.owner !== 'root/root')).toEqual([]);
    expect(entries.filter((e) => e.date !== date)).toEqual([]);
    const executables = entries.filter((e) => e.mode.startsWith('-') && /x/.test(e.mode)).map((e) => e.path);
    expect(executables.sort()).toEqual(['./usr/lib/crtosd/crtosctl.cjs', './usr/lib/crtosd/crtosd.mjs']);
  });

  it('gzips without a name or a time, as gzip -n', () => {
    for (const gz of ['usr/share/man/man1/crtosctl.1.gz', 'usr/share/man/man8/crtosd.8.gz', 'usr/share/doc/crtosd/changelog.gz']) {
      const bytes = readFileSync(join(unpacked, gz));
      expect(bytes[3]! & 0x08, `${gz} has a file name`).toBe(0);
      expect(bytes.readUInt32LE(4), `${gz} has a time`).toBe(0);
    }
    expect(gunzipSync(readFileSync(join(unpacked, 'usr/share/doc/crtosd/changelog.gz'))).toString()).toBe(CHANGELOG);
  });

  it('is the same, byte for byte, when built again', async () => {
    const again = await buildDeb(join(dir, 'again'));
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(sha(again)).toBe(sha(deb));
  }, 60_000);

  it('has no error or warning from lintian', async () => {
    const r = await run('lintian', ['--no-cfg', '--fail-on', 'error,warning', deb], { timeoutMs: 120_000 });
    const tags = r.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
    expect(tags).toEqual([]);
    expect(r.code).toBe(0);
  }, 120_000);

  it('has a crtosctl that runs from the unpacked package, with --help and man page', async () => {
    const help = await run(join(unpacked, 'usr/bin/crtosctl'), ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit status:');
    const man = await run('man', ['-l', join(unpacked, 'usr/share/man/man1/crtosctl.1.gz')], { env: { ...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100' } });
    expect(man.stdout).toContain('EXIT STATUS');
    const daemonHelp = await run(join(unpacked, 'usr/bin/crtosd'), ['--help']);
    expect(daemonHelp.code).toBe(0);
    expect(daemonHelp.stdout).toContain('--admin-group');
  });

  it('has a crtosctl that talks to crtosd on a bus', async () => {
    let bus: PrivateBus | undefined;
    let service: DbusServiceHandle | undefined;
    try {
      bus = await startPrivateBus();
      service = await startDbusService(new FakeManager(), { busAddress: bus.address });
      const r = await run(join(unpacked, 'usr/bin/crtosctl'), ['--bus', bus.address, 'is-active', 'jailhouse.driver']);
      expect(r).toEqual({ code: 0, stdout: 'active\n', stderr: '' });
    } finally {
      await service?.close();
      await bus?.stop();
    }
  });
});

describe('dpkg -i into a scratch root, without systemd', () => {
  let scratch: string;
  let calls: string;
  let hostGroups: string;
  // dpkg runs the maintainer scripts outside the root with DPKG_ROOT=scratch; systemctl and
  // deb-systemd-invoke on their PATH only log that they were called (they must not be). The
  // package's dependencies are not installed in the root, hence --force-depends.
  const dpkg = (...args: string[]) => {
    const bin = join(dir, 'bin');
    return run('dpkg', [`--root=${scratch}`, '--force-script-chrootless', '--force-depends', ...args], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, CALLS: calls },
      timeoutMs: 60_000,
    });
  };
  const at = (p: string) => join(scratch, p);

  beforeAll(async () => {
    scratch = join(dir, 'scratch');
    calls = join(dir, 'calls');
    writeFileSync(calls, '');
    mkdirSync(join(dir, 'bin'));
    for (const tool of ['systemctl', 'deb-systemd-invoke']) {
      writeFileSync(join(dir, 'bin', tool), `#!/bin/sh\necho "${tool} $*" >> "$CALLS"\n`);
      chmodSync(join(dir, 'bin', tool), 0o755);
    }
    // An initialised admin directory, and the group files groupadd --prefix writes to.
    for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'etc']) mkdirSync(at(d), { recursive: true });
    writeFileSync(at('var/lib/dpkg/status'), '');
    writeFileSync(at('etc/group'), 'root:x:0:\n');
    writeFileSync(at('etc/gshadow'), 'root:*::\n');
    hostGroups = readFileSync('/etc/group', 'utf8');
    const r = await dpkg('-i', deb);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  it('installs the service where systemd looks, running the command it names', () => {
    const service = readFileSync(at('usr/lib/systemd/system/crtosd.service'), 'utf8');
    const exec = /^ExecStart=(\S+)/m.exec(service)![1]!;
    expect(exec).toBe('/usr/bin/crtosd');
    expect(readlinkSync(at(exec))).toBe('../lib/crtosd/crtosd.mjs');
    expect(lstatSync(at('usr/lib/crtosd/crtosd.mjs')).mode & 0o111).toBe(0o111);
    expect(readFileSync(at('usr/lib/crtosd/crtosd.mjs'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('installs the bus policy where the system bus reads it, for the name crtosd owns', async () => {
    const system = readFileSync('/usr/share/dbus-1/system.conf', 'utf8');
    expect(system).toContain('<includedir>system.d</includedir>');
    const policy = readFileSync(at('usr/share/dbus-1/system.d/org.crtos.Manager1.conf'), 'utf8');
    expect(policy).toContain('<allow own="org.crtos.Manager1"/>');
    expect(policy).toContain('<policy group="crtos">');
    expect((await run('xmllint', ['--noout', at('usr/share/dbus-1/system.d/org.crtos.Manager1.conf')])).code).toBe(0);
  });

  it('installs the completions where bash-completion, zsh and fish look for them', async () => {
    const bashDir = (await run('pkg-config', ['--variable=completionsdir', 'bash-completion'])).stdout.trim();
    const fishDir = (await run('pkg-config', ['--variable=completionsdir', 'fish'])).stdout.trim();
    const zshPath = (await run('zsh', ['-fc', 'print -l $fpath'])).stdout.trim().split('\n');
    expect(existsSync(at(join(bashDir, 'crtosctl')))).toBe(true);
    expect(existsSync(at(join(fishDir, 'crtosctl.fish')))).toBe(true);
    expect(zshPath.filter((d) => existsSync(at(join(d, '_crtosctl'))))).toEqual(['/usr/share/zsh/vendor-completions']);
    // Each is accepted by its shell.
    const complete = await run('bash', ['-c', `source ${at(join(bashDir, 'crtosctl'))} && complete -p crtosctl`]);
    expect(complete.stdout).toMatch(/^complete .* crtosctl$/m);
    expect((await run('zsh', ['-n', at('usr/share/zsh/vendor-completions/_crtosctl')])).code).toBe(0);
    expect((await run('fish', ['--no-execute', at(join(fishDir, 'crtosctl.fish'))])).code).toBe(0);
  });

  it('installs the JSON Schemas and the man pages', async () => {
    for (const name of ['unit.schema.json', 'dropin.schema.json']) {
      expect(readFileSync(at(`usr/share/crtos/schemas/${name}`), 'utf8')).toBe(readFileSync(join(ROOT, 'schemas', name), 'utf8'));
    }
    const env = { ...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100' };
    for (const [page, section, heading] of [['crtosctl', '1', 'CRTOSCTL(1)'], ['crtosd', '8', 'CRTOSD(8)']] as const) {
      const r = await run('man', ['-M', at('usr/share/man'), section, page], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(heading);
    }
  });

  it('passes systemd-analyze verify in the scratch root', async () => {
    // verify checks that the commands of ExecStart= and ExecReload= exist under --root, and runs
    // man for Documentation= (on MANPATH). /bin/kill (ExecReload=) comes with procps or
    // util-linux, which the scratch root lacks: it gets the host's.
    mkdirSync(at('bin'), { recursive: true });
    copyFileSync('/bin/kill', at('bin/kill'));
    const r = await run('systemd-analyze', ['verify', `--root=${scratch}`, 'crtosd.service'], { env: { ...process.env, MANPATH: `${at('usr/share/man')}:` } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('ran the maintainer scripts without systemd: group and enable links in the root, nothing started', () => {
    expect(readFileSync(at('etc/group'), 'utf8')).toMatch(/^crtos:x:\d+:$/m);
    expect(readFileSync('/etc/group', 'utf8')).toBe(hostGroups);
    expect(readlinkSync(at('etc/systemd/system/sysinit.target.wants/crtosd.service'))).toBe('/usr/lib/systemd/system/crtosd.service');
    expect(readFileSync(calls, 'utf8')).toBe('');
  });

  it('installs again over itself as an upgrade does (prerm upgrade, postinst configure OLD): same group, same links, nothing started', async () => {
    const groups = readFileSync(at('etc/group'), 'utf8');
    const r = await dpkg('-i', deb);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(at('etc/group'), 'utf8')).toBe(groups);
    expect(readlinkSync(at('etc/systemd/system/sysinit.target.wants/crtosd.service'))).toBe('/usr/lib/systemd/system/crtosd.service');
    expect(readFileSync(calls, 'utf8')).toBe('');
  });

  it('removes and purges clean, keeping the group', async () => {
    mkdirSync(at('run/crtos/cells'), { recursive: true });
    writeFileSync(at('run/crtos/state.json'), '{}');
    expect((await dpkg('--remove', 'crtosd')).code).toBe(0);
    expect(existsSync(at('usr/lib/crtosd'))).toBe(false);
    // Nothing masked (debhelper 13.11's postrm): no file in /etc/systemd/system but the enable
    // link, which purge removes.
    expect(existsSync(at('etc/systemd/system/crtosd.service'))).toBe(false);
    expect(existsSync(at('run/crtos/state.json'))).toBe(true);
    expect((await dpkg('--purge', 'crtosd')).code).toBe(0);
    for (const p of ['etc/systemd/system/crtosd.service', 'etc/systemd/system/sysinit.target.wants', 'run/crtos', 'etc/crtos', 'usr/share/doc/crtosd']) {
      expect(existsSync(at(p)), p).toBe(false);
    }
    expect(readFileSync(at('etc/group'), 'utf8')).toMatch(/^crtos:/m);
    expect((await run('dpkg', [`--root=${scratch}`, '-l', 'crtosd'])).stdout).not.toMatch(/^[a-z]i\s+crtosd/m);
    expect(readFileSync(calls, 'utf8')).toBe('');
  });
});
