// packaging/debian/{postinst,prerm,postrm} run by sh as dpkg runs them, on a machine with and one
// without systemd: each runs in a private mount namespace with its own /run (with or without
// /run/systemd/system), and stand-ins for deb-systemd-helper, deb-systemd-invoke, systemctl and
// the group tools record what the script asks of them. Installing the package into a scratch root
// with the real helpers is test/packaging/package-deb.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../dbus/helpers/run.js';

const DEBIAN = fileURLToPath(new URL('../../packaging/debian/', import.meta.url));
const TOOLS = ['deb-systemd-helper', 'deb-systemd-invoke', 'systemctl', 'getent', 'addgroup', 'groupadd'];

let dir: string;
let bin: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crtos-maint-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
  // Each stand-in logs its argv. `getent group crtos` answers as the machine has the group (or
  // not), `deb-systemd-helper was-enabled` as the administrator left the service; the others fail
  // when FAIL names them.
  for (const tool of TOOLS) {
    writeFileSync(
      join(bin, tool),
      `#!/bin/sh
echo "${tool} $*" >> "$LOG"
case "${tool} $1" in
  "getent group") [ "$HAS_GROUP" = 1 ] && exit 0; exit 2 ;;
  "deb-systemd-helper --quiet") [ "$WAS_ENABLED" = 1 ] && exit 0; exit 1 ;;
esac
case " $FAIL " in *" ${tool} "*) exit 1 ;; esac
exit 0
`,
    );
    chmodSync(join(bin, tool), 0o755);
  }
}, 10_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Machine {
  systemd: boolean;
  hasGroup?: boolean;
  wasEnabled?: boolean;
  fail?: string[];
  /** As `dpkg --root DIR --force-script-chrootless` sets it: the package goes into DIR, not into this machine. */
  dpkgRoot?: string;
}

/** Runs a maintainer script; returns its exit code, the tools it called, and what is left in /run/crtos. */
async function maint(script: 'postinst' | 'prerm' | 'postrm', args: string[], machine: Machine) {
  const log = join(dir, `log-${Math.random().toString(36).slice(2)}`);
  writeFileSync(log, '');
  const setup = [
    'mount -t tmpfs tmpfs /run',
    machine.systemd ? 'mkdir -p /run/systemd/system' : ':',
    'mkdir -p /run/crtos/cells && echo {} > /run/crtos/state.json',
    `sh ${join(DEBIAN, script)} "$@"; echo "exit $?"`,
    'ls /run/crtos 2>/dev/null',
  ].join('; ');
  const r = await run('unshare', ['-m', 'sh', '-c', setup, script, ...args], {
    env: {
      PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
      LOG: log,
      HAS_GROUP: machine.hasGroup ? '1' : '0',
      WAS_ENABLED: machine.wasEnabled === false ? '0' : '1',
      FAIL: (machine.fail ?? []).join(' '),
      ...(machine.dpkgRoot ? { DPKG_ROOT: machine.dpkgRoot } : {}),
    },
  });
  expect(r.stderr).toBe('');
  const [status, ...left] = r.stdout.trim().split('\n');
  return { code: Number(/^exit (\d+)$/.exec(status!)![1]), calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean), runCrtos: left };
}

describe('postinst', () => {
  // Every configure: the mask of a removal undone, then the administrator's choice asked for.
  const unmaskAndAsk = ['deb-systemd-helper unmask crtosd.service', 'deb-systemd-helper --quiet was-enabled crtosd.service'];

  it('on a first installation with systemd: adds the group, enables and starts crtosd', async () => {
    const r = await maint('postinst', ['configure'], { systemd: true });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([
      'getent group crtos',
      'addgroup --system --quiet crtos',
      ...unmaskAndAsk,
      'deb-systemd-helper enable crtosd.service',
      'systemctl --system daemon-reload',
      'deb-systemd-invoke start crtosd.service',
    ]);
  });

  it('on an upgrade with systemd: restarts crtosd, keeps the group and an administrator’s disable', async () => {
    const r = await maint('postinst', ['configure', '0.0.9'], { systemd: true, hasGroup: true, wasEnabled: false });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([
      'getent group crtos',
      ...unmaskAndAsk,
      'deb-systemd-helper update-state crtosd.service',
      'systemctl --system daemon-reload',
      'deb-systemd-invoke restart crtosd.service',
    ]);
  });

  it('without systemd: records the enable links for a later systemd boot, starts nothing', async () => {
    const r = await maint('postinst', ['configure'], { systemd: false, hasGroup: true });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(['getent group crtos', ...unmaskAndAsk, 'deb-systemd-helper enable crtosd.service']);
  });

  it('succeeds when the service does not start, and fails when the group cannot be made', async () => {
    const helpersFail = await maint('postinst', ['configure'], { systemd: true, hasGroup: true, fail: ['deb-systemd-helper', 'deb-systemd-invoke', 'systemctl'] });
    expect(helpersFail.code).toBe(0);
    expect(helpersFail.calls).toContain('deb-systemd-invoke start crtosd.service');
    const noGroup = await maint('postinst', ['configure'], { systemd: true, fail: ['addgroup'] });
    expect(noGroup.code).not.toBe(0);
    expect(noGroup.calls).toEqual(['getent group crtos', 'addgroup --system --quiet crtos']);
  });

  it('on abort-upgrade: enables and starts again without touching the group', async () => {
    const r = await maint('postinst', ['abort-upgrade', '0.1.0'], { systemd: true });
    expect(r.code).toBe(0);
    expect(r.calls).not.toContain('getent group crtos');
    expect(r.calls).toContain('deb-systemd-invoke restart crtosd.service');
  });
});

describe('prerm', () => {
  it('stops crtosd on removal with systemd only, never on upgrade', async () => {
    expect((await maint('prerm', ['remove'], { systemd: true })).calls).toEqual(['deb-systemd-invoke stop crtosd.service']);
    expect((await maint('prerm', ['upgrade', '0.2.0'], { systemd: true })).calls).toEqual([]);
    const noSystemd = await maint('prerm', ['remove'], { systemd: false });
    expect(noSystemd).toMatchObject({ code: 0, calls: [] });
  });
});

describe('postrm', () => {
  it('on removal: reloads systemd when it runs, masks nothing, keeps the state in /run/crtos', async () => {
    const r = await maint('postrm', ['remove'], { systemd: true });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(['systemctl --system daemon-reload']);
    expect(r.runCrtos).toEqual(['cells', 'state.json']);
    expect((await maint('postrm', ['remove'], { systemd: false })).calls).toEqual([]);
  });

  it('on purge: forgets the enable links, removes /run/crtos, keeps the group', async () => {
    const r = await maint('postrm', ['purge'], { systemd: false, hasGroup: true });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(['deb-systemd-helper purge crtosd.service']);
    expect(r.runCrtos).toEqual([]);
  });
});

describe('into another root (DPKG_ROOT) on a machine running systemd', () => {
  it('touches only that root: its group, its enable links and its /run/crtos, never the running systemd', async () => {
    const other = join(dir, 'other-root');
    mkdirSync(join(other, 'run/crtos'), { recursive: true });
    const machine = { systemd: true, dpkgRoot: other };
    const install = await maint('postinst', ['configure'], machine);
    expect(install.code).toBe(0);
    expect(install.calls).toEqual([`groupadd --prefix ${other} --system crtos`, 'deb-systemd-helper unmask crtosd.service', 'deb-systemd-helper --quiet was-enabled crtosd.service', 'deb-systemd-helper enable crtosd.service']);
    expect((await maint('prerm', ['remove'], machine)).calls).toEqual([]);
    expect((await maint('postrm', ['remove'], machine)).calls).toEqual([]);
    const purge = await maint('postrm', ['purge'], machine);
    expect(purge.calls).toEqual(['deb-systemd-helper purge crtosd.service']);
    expect(purge.runCrtos).toEqual(['cells', 'state.json']);
    expect(existsSync(join(other, 'run/crtos'))).toBe(false);
  });
});
