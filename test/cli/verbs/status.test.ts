import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { problem } from '../../../src/errors/problem.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  h.manager.setUnit('hello.loader', {
    lastError: problem('ENGINE_PROCESS_EXITED', 'loader exited with code 3', { unit: 'hello.loader', hint: 'see the loader output' }),
    details: { kind: 'Loader', pid: 0, exitCode: 3, exitSignal: '', restarts: 2 },
  });
  h.manager.logs.push({ time: 1_700_000_001_000_000, level: 'error', unit: 'hello.loader', message: 'loader exited with code 3' });
});
afterAll(() => h?.stop());

describe('crtosctl status (overview)', () => {
  it('shows the daemon, the hypervisor and every unit with ASCII glyphs off a terminal', async () => {
    const r = await h.ctl(['status']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('* crtosd 0.1.0-test');
    expect(r.stdout).toMatch(/^ +State: running$/m);
    expect(r.stdout).toMatch(/^ +Units: 7 loaded \(3 active, 1 failed, 3 other\)$/m);
    expect(r.stdout).toMatch(/^ +Hypervisor: jailhouse\.hypervisor active \(enabled\)$/m);
    expect(r.stdout).toMatch(/^x hello\.loader +failed \(failed\) +The hello\.loader unit$/m);
    expect(r.stdout).toMatch(/^o nuttx\.cell +inactive \(dead\) +NuttX real-time cell$/m);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('uses colour and systemd glyphs on a terminal', async () => {
    const r = await h.ctl(['status'], { color: true });
    expect(r.stdout).toContain('×');
    expect(r.stdout).toContain('○ nuttx.cell');
    expect(r.stdout).toContain('\x1b[1;31mfailed (failed)\x1b[0m');
  });

  it('prints JSON with --json', async () => {
    const r = await h.ctl(['status', '--json']);
    const data = JSON.parse(r.stdout);
    expect(data.daemon).toMatchObject({ version: '0.1.0-test', systemState: 'running', nUnits: 7, unitDirectories: ['/etc/crtos/units'] });
    expect(data.units.map((u: { id: string }) => u.id)).toContain('crtos-link.network');
  });

  it('lists load errors the daemon kept from the last reload', async () => {
    h.manager.daemonStatus = { ...h.manager.daemonStatus, lastLoadErrors: [problem('UNIT_UNKNOWN_FIELD' as never, "unknown field 'onFailur'", { file: 'units/nuttx.yaml', line: 12, column: 3 })] };
    try {
      const r = await h.ctl(['status']);
      expect(r.stdout).toContain('The last reload was not applied; the unit files have errors:');
      expect(r.stdout).toContain("units/nuttx.yaml:12:3: error[UNIT_UNKNOWN_FIELD]: unknown field 'onFailur'");
    } finally {
      h.manager.daemonStatus = { ...h.manager.daemonStatus, lastLoadErrors: [] };
    }
  });
});

describe('crtosctl status UNIT', () => {
  it('prints the systemctl layout with aligned labels, drop-ins and cell details; exit 3 when inactive', async () => {
    const r = await h.ctl(['status', 'nuttx.cell'], { env: { LC_ALL: 'C' } });
    expect(r.code).toBe(3);
    expect(r.stdout.split('\n').slice(0, 10)).toEqual([
      'o nuttx.cell - NuttX real-time cell',
      '     Loaded: loaded (/etc/crtos/units/nuttx.yaml)',
      '    Drop-In: /run/crtos/units/nuttx.cell.d',
      '             `-50-loopback.yaml',
      expect.stringMatching(/^ {5}Active: inactive \(dead\) since Tue 2023-11-14 22:13:20 UTC; .+ ago$/),
      '    Cell ID: -',
      '  Jailhouse: no such cell',
      '       CPUs: -',
      '     Config: /etc/jailhouse/nuttx.cell',
      '   Requires: jailhouse.hypervisor nuttx.image',
    ]);
  });

  it('shows a failed loader with its result, last error and log lines', async () => {
    const r = await h.ctl(['status', 'hello.loader']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^x hello\.loader - The hello\.loader unit$/m);
    expect(r.stdout).toMatch(/^ +Active: failed \(Result: exit-code\) since /m);
    expect(r.stdout).toMatch(/^ +Last exit: code=3$/m);
    expect(r.stdout).toMatch(/^ +Restarts: 2$/m);
    expect(r.stdout).toMatch(/^ +Last error: error\[ENGINE_PROCESS_EXITED\]: loader exited with code 3 \(hello\.loader\)$/m);
    expect(r.stdout).toMatch(/^ += hint: see the loader output$/m);
    expect(r.stdout).toMatch(/\n\nNov 14 22:13:21 hello\.loader: loader exited with code 3\n$/);
  });

  it('shows driver parameters and exits 0 for an active unit', async () => {
    const r = await h.ctl(['status', 'jailhouse.driver', '-n', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\* jailhouse\.driver/);
    expect(r.stdout).toMatch(/^ +Module: jailhouse$/m);
    const shadow = await h.ctl(['status', 'shadow.driver']);
    expect(shadow.stdout).toMatch(/^ +Parameters: debug=1$/m);
    expect(shadow.stdout).toMatch(/^ +In kernel: no$/m);
  });

  it('reports an unknown unit on stderr and exits 4', async () => {
    const r = await h.ctl(['status', 'nope.cell', 'jailhouse.driver']);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('Unit nope.cell could not be found.\n');
    expect(r.stdout).toContain('jailhouse.driver');
  });

  it('prints the units with their log as JSON', async () => {
    const r = await h.ctl(['status', '--json', 'hello.loader']);
    const [u] = JSON.parse(r.stdout);
    expect(u).toMatchObject({ id: 'hello.loader', kind: 'Loader', activeState: 'failed', details: { kind: 'Loader', exitCode: 3, restarts: 2 } });
    expect(u.lastError).toMatchObject({ code: 'ENGINE_PROCESS_EXITED', hint: 'see the loader output' });
    expect(u.log).toEqual([{ time: 1_700_000_001_000_000, level: 'error', unit: 'hello.loader', message: 'loader exited with code 3' }]);
  });

  it('rejects a bad --lines value as usage error', async () => {
    const r = await h.ctl(['status', '-n', 'many', 'nuttx.cell']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--lines needs a number, not 'many'");
  });
});

describe('crtosctl status UNIT with a job', () => {
  it('names the queued job with its type and state', async () => {
    const g = await startHarness(undefined, { jobMs: 2000 });
    try {
      await g.ctl(['start', '--no-block', 'shadow.driver']);
      const r = await g.ctl(['status', 'shadow.driver']);
      expect(r.stdout).toMatch(/^ +Job: start job \d+ \(waiting\)$/m);
    } finally {
      await g.stop();
    }
  });
});
