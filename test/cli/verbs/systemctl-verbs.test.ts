/**
 * systemctl's verbs that crtosctl gained in issue 15, run through the real entry point against the
 * engine on the simulated cRTOS machine, served on a private bus: list-dependencies,
 * daemon-reload, mask/unmask, kill, is-failed, reset-failed, list-jobs and --type. One machine for
 * the file: the tests run in order and build on each other (a mask, then a kill while masked
 * leaves a failed unit for is-failed and reset-failed). Exit codes as systemctl's.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { makeFixture, settle, untilUnit, pidOf, type Fixture } from '../../engine/harness.js';
import { serveFixture, type Harness } from '../helpers/harness.js';
import { fileMaskStore } from '../../../src/engine/masks.js';
import type { Manager } from '../../../src/engine/manager.js';

let f: Fixture;
let h: Harness<Manager>;
let maskDir: string;
/** A UTF-8 locale, whatever the test's own: list-dependencies draws its tree by the locale. */
const UTF8 = { LC_ALL: 'C.UTF-8' };

beforeAll(async () => {
  f = await makeFixture();
  maskDir = join(f.dir, 'etc/crtos/mask');
  h = await serveFixture(f, { masks: fileMaskStore({ persistent: maskDir, runtime: join(f.stateDir, 'mask') }) });
});
afterAll(async () => {
  await h?.stop();
  await f?.cleanup();
});

describe('crtosctl list-dependencies', () => {
  test('without a unit, a tree from each unit nothing requires or wants, one level down (systemctl expands only targets)', async () => {
    const r = await h.ctl(['list-dependencies'], { env: UTF8 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello.loader\n├─crtos-link.network\n├─nuttx.cell\n└─shadow.driver\n');
  });

  test('--all expands the whole tree; --plain indents instead of drawing', async () => {
    const all = await h.ctl(['list-dependencies', '--all', 'shadow.driver'], { env: UTF8 });
    expect(all.stdout).toBe('shadow.driver\n└─shadow.link\n  └─jailhouse.hypervisor\n    └─jailhouse.driver\n');
    const ascii = await h.ctl(['list-dependencies', '--all', 'shadow.driver'], { env: { LC_ALL: 'C' } });
    expect(ascii.stdout).toBe('shadow.driver\n`-shadow.link\n  `-jailhouse.hypervisor\n    `-jailhouse.driver\n');
    const plain = await h.ctl(['list-dependencies', '--all', '--plain', 'nuttx.cell']);
    expect(plain.stdout.split('\n').slice(0, 3)).toEqual(['nuttx.cell', '  crtos-link.network', '    crtos-net.link']);
    expect(plain.stdout).toContain('\n  jailhouse.hypervisor\n    jailhouse.driver\n  nuttx.image\n');
  });

  test('--reverse shows what requires or wants the unit; on a terminal each unit has its state glyph', async () => {
    expect((await h.ctl(['list-dependencies', '--reverse', 'shadow.link'], { env: UTF8 })).stdout).toBe('shadow.link\n└─shadow.driver\n');
    const colour = await h.ctl(['list-dependencies', 'hello.loader'], { color: true, env: UTF8 });
    expect(colour.stdout).toBe('\x1b[1;32m●\x1b[0m hello.loader\n├─\x1b[1;32m●\x1b[0m crtos-link.network\n├─\x1b[1;32m●\x1b[0m nuttx.cell\n└─\x1b[1;32m●\x1b[0m shadow.driver\n');
  });

  test('an unknown unit exits 4, two units is bad usage', async () => {
    expect(await h.ctl(['list-dependencies', 'nope.cell'])).toMatchObject({ code: 4, stderr: 'Unit nope.cell could not be found.\n' });
    expect((await h.ctl(['list-dependencies', 'a.cell', 'b.cell'])).code).toBe(2);
  });
});

describe('crtosctl daemon-reload, --type, list-jobs', () => {
  test('daemon-reload is reload', async () => {
    const r = await h.ctl(['daemon-reload']);
    expect(r.code).toBe(0);
    expect(h.manager.daemon().lastLoadErrors).toEqual([]);
  });

  test('list-units --type and -t filter by kind as --kind does', async () => {
    for (const flag of ['--type=cell', '-t', '--kind=cell']) {
      const r = await h.ctl(['list-units', '--no-legend', ...(flag === '-t' ? ['-t', 'cell'] : [flag])]);
      expect(r.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual(['nuttx.cell']);
    }
  });

  test('list-jobs on a settled machine: no jobs', async () => {
    expect(await h.ctl(['list-jobs'])).toMatchObject({ code: 0, stdout: 'No jobs running.\n' });
    expect(await h.ctl(['list-jobs', '--no-legend'])).toMatchObject({ code: 0, stdout: '' });
  });
});

describe('crtosctl mask, unmask, kill, is-failed, reset-failed', () => {
  test('mask: the loader runs on, list-units and status show masked, start is refused naming unmask', async () => {
    const pid = pidOf(h.manager.getUnit('hello.loader'));
    const r = await h.ctl(['mask', 'hello.loader']);
    expect(r).toMatchObject({ code: 0, stdout: `Created symlink ${join(maskDir, 'hello.loader')} → /dev/null.\n` });
    expect(h.manager.getUnit('hello.loader')).toMatchObject({ loadState: 'masked', activeState: 'active' });
    expect(pidOf(h.manager.getUnit('hello.loader'))).toBe(pid);
    const row = (await h.ctl(['list-units', '--no-legend', 'hello.loader'])).stdout;
    expect(row.split(/\s+/).slice(0, 3)).toEqual(['hello.loader', 'masked', 'active']);
    expect((await h.ctl(['status', 'hello.loader'])).stdout).toMatch(/^ +Loaded: masked \(/m);
    const start = await h.ctl(['restart', 'hello.loader']);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`Unit hello.loader is masked (${join(maskDir, 'hello.loader')}); unmask it first: crtosctl unmask hello.loader`);
  });

  test('kill: a cell runs no process (refused, saying why, exit 1), nor does an unknown unit; a bad signal is bad usage', async () => {
    const cell = await h.ctl(['kill', 'nuttx.cell']);
    expect(cell.code).toBe(1);
    expect(cell.stderr).toContain('nuttx.cell is a Cell: crtosd runs no process for it, so there is nothing to signal (kill applies to units that run one, loaders)');
    expect(await h.ctl(['kill', 'nope.loader'])).toMatchObject({ code: 1, stderr: 'Failed to kill unit nope.loader: Unit nope.loader not loaded.\n' });
    expect((await h.ctl(['kill', '--signal=SIGNOPE', 'hello.loader'])).code).toBe(2);
    expect((await h.ctl(['kill', '--kill-whom=some', 'hello.loader'])).code).toBe(2);
  });

  test('kill --signal=KILL of the masked loader: its restart is not started (masked), so it is failed; is-failed says so (exit 0)', async () => {
    const r = await h.ctl(['kill', '--signal=KILL', '--kill-whom=main', 'hello.loader']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    await untilUnit(h.manager, 'hello.loader', (s) => s.activeState === 'failed');
    expect(await h.ctl(['is-failed', 'hello.loader', 'nuttx.cell'])).toMatchObject({ code: 0, stdout: 'failed\nactive\n' });
    expect(await h.ctl(['is-failed', '--quiet', 'hello.loader'])).toMatchObject({ code: 0, stdout: '' });
    expect(await h.ctl(['is-failed'])).toMatchObject({ code: 0, stdout: 'degraded\n' });
  });

  test('reset-failed: the loader is inactive and stays down after unmask until started; an unknown unit exits 1 as systemctl\'s', async () => {
    const r = await h.ctl(['reset-failed', 'hello.loader']);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await h.ctl(['is-failed', 'hello.loader', 'nope.loader'])).toMatchObject({ code: 1, stdout: 'inactive\ninactive\n' });
    // As systemctl since systemd 253: none of the units known is 4.
    expect(await h.ctl(['is-failed', 'nope.loader'])).toMatchObject({ code: 4, stdout: 'inactive\n' });
    expect(await h.ctl(['is-failed'])).toMatchObject({ code: 1, stdout: 'running\n' });
    expect(await h.ctl(['reset-failed', 'nope.loader'])).toMatchObject({ code: 1, stderr: 'Failed to reset failed state of unit nope.loader: Unit nope.loader not loaded.\n' });
    expect(await h.ctl(['unmask', 'hello.loader'])).toMatchObject({ code: 0, stdout: `Removed "${join(maskDir, 'hello.loader')}".\n` });
    await settle(h.manager);
    expect(h.manager.getUnit('hello.loader')).toMatchObject({ loadState: 'loaded', activeState: 'inactive' });
    expect((await h.ctl(['start', 'hello.loader'])).code).toBe(0);
    expect((await h.ctl(['is-active', 'hello.loader'])).stdout).toBe('active\n');
  });

  test('reset-failed without units and a second unmask are fine and change nothing', async () => {
    expect(await h.ctl(['reset-failed'])).toMatchObject({ code: 0, stderr: '' });
    expect(await h.ctl(['unmask', 'hello.loader'])).toMatchObject({ code: 0, stdout: '' });
  });
});

describe('crtosctl show on the machine', () => {
  test('timestamps carry the microseconds the daemon keeps, and their monotonic twins', async () => {
    const r = await h.ctl(['show', 'nuttx.cell', '-p', 'ActiveEnterTimestamp,ActiveEnterTimestampMonotonic', '--timestamp=us+utc']);
    expect(r.stdout).toMatch(/^ActiveEnterTimestamp=\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} UTC\nActiveEnterTimestampMonotonic=[1-9]\d*\n$/);
    // Microseconds, not milliseconds times 1000: of every unit's transition times, some are not whole milliseconds.
    const usecs = h.manager.listUnits().flatMap((u) => [u.timestamps.activeEnter, u.timestamps.inactiveExit]);
    expect(usecs.some((t) => t % 1000 !== 0)).toBe(true);
  });
});
