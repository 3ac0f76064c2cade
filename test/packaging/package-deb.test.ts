// scripts/package-deb.mjs and what it ships: the package's metadata and file list, the commands
// run from an unpacked scratch root, the service file passes systemd-analyze verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../dbus/helpers/run.js';
import { startPrivateBus, type PrivateBus } from '../dbus/helpers/private-bus.js';
import { FakeManager } from '../dbus/helpers/fake-manager.js';
import { startDbusService, type DbusServiceHandle } from '../../src/dbus/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let deb: string;
let scratch: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crtos-deb-'));
  const r = await run(process.execPath, [join(ROOT, 'scripts/package-deb.mjs'), '--out', dir], { timeoutMs: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  deb = r.stdout.trim();
  scratch = join(dir, 'root');
  expect((await run('dpkg-deb', ['-x', deb, scratch])).code).toBe(0);
}, 90_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Debian package', () => {
  it('names itself, its version and its dependencies', async () => {
    const r = await run('dpkg-deb', ['--info', deb]);
    expect(r.stdout).toMatch(/^ Package: crtosd$/m);
    expect(r.stdout).toMatch(/^ Version: \d+\.\d+\.\d+/m);
    expect(r.stdout).toMatch(/^ Architecture: all$/m);
    expect(r.stdout).toMatch(/^ Depends: nodejs \(>= 20\.19\), dbus$/m);
    expect(r.stdout).toMatch(/postinst/);
  });

  it('holds the bundled commands, the service, the bus policy, man pages and example units', async () => {
    const r = await run('dpkg-deb', ['--contents', deb]);
    const paths = r.stdout.split('\n').map((l) => l.split(/\s+/).slice(5).join(' '));
    for (const p of [
      './usr/lib/crtosd/crtosd.mjs',
      './usr/lib/crtosd/crtosctl.mjs',
      './usr/bin/crtosd -> ../lib/crtosd/crtosd.mjs',
      './usr/bin/crtosctl -> ../lib/crtosd/crtosctl.mjs',
      './usr/lib/systemd/system/crtosd.service',
      './usr/share/dbus-1/system.d/org.crtos.Manager1.conf',
      './usr/share/man/man1/crtosctl.1.gz',
      './usr/share/man/man8/crtosd.8.gz',
      './usr/share/doc/crtosd/examples/units/crtos/nuttx.yaml',
      './usr/share/doc/crtosd/copyright',
    ]) {
      expect(paths).toContain(p);
    }
    expect(paths.some((p) => p.includes('node_modules') || p.endsWith('.map'))).toBe(false);
  });

  it('has a crtosctl that runs from the unpacked root, with --help and man page', async () => {
    const help = await run(join(scratch, 'usr/bin/crtosctl'), ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit status:');
    const man = await run('man', ['-l', join(scratch, 'usr/share/man/man1/crtosctl.1.gz')], { env: { ...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100' } });
    expect(man.stdout).toContain('EXIT STATUS');
    const daemonHelp = await run(join(scratch, 'usr/bin/crtosd'), ['--help']);
    expect(daemonHelp.code).toBe(0);
    expect(daemonHelp.stdout).toContain('--admin-group');
  });

  it('has a crtosctl that talks to crtosd on a bus', async () => {
    let bus: PrivateBus | undefined;
    let service: DbusServiceHandle | undefined;
    try {
      bus = await startPrivateBus();
      service = await startDbusService(new FakeManager(), { busAddress: bus.address });
      const r = await run(join(scratch, 'usr/bin/crtosctl'), ['--bus', bus.address, 'is-active', 'jailhouse.driver']);
      expect(r).toEqual({ code: 0, stdout: 'active\n', stderr: '' });
    } finally {
      await service?.close();
      await bus?.stop();
    }
  });

  it('has a service file systemd-analyze verify accepts', async () => {
    // verify checks that ExecStart= binaries and man pages exist on this machine: show it the
    // package's commands over /usr/bin in a private mount namespace, and its man pages on MANPATH.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const c of ['crtosd', 'crtosctl']) copyFileSync(join(scratch, 'usr/bin', c), join(bin, c));
    const service = join(scratch, 'usr/lib/systemd/system/crtosd.service');
    const r = await run('unshare', ['-m', 'sh', '-c', `mount -t overlay overlay -o lowerdir=${bin}:/usr/bin /usr/bin && systemd-analyze verify ${service}`], {
      env: { ...process.env, MANPATH: `${join(scratch, 'usr/share/man')}:` },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
