/** crtosd as users run it: --once, the watching daemon, signals, readiness notification, crashes. */
import { afterEach, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixture, type Fixture } from '../engine/harness.js';
import { changesOf, until } from '../helpers/wait-for.js';
import { CRTOSD, machineChanges, notifyReceiver, outputOf, runOnce, startDaemon } from './run.js';

let fixtures: Fixture[] = [];
afterEach(async () => {
  for (const f of fixtures) await f.cleanup();
  fixtures = [];
});
async function fixture(): Promise<Fixture> {
  const f = await makeFixture();
  fixtures.push(f);
  return f;
}

const stateFile = (f: Fixture) => JSON.parse(readFileSync(join(f.stateDir, 'state.json'), 'utf8')) as { units: Record<string, { facts: { pid?: number } }> };

/** The loader's pid in the state file, once the file and the pid are there. */
function loaderPid(f: Fixture): number | undefined {
  try {
    return stateFile(f).units['hello.loader']?.facts.pid;
  } catch {
    return undefined;
  }
}

describe('crtosd', () => {
  test('--once brings the example up, prints every unit, exits 0; a second --once touches nothing', async () => {
    const f = await fixture();
    const first = await runOnce(f);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^nuttx\.cell\s+active\s+running\s+success$/m);
    expect(first.stdout.match(/ active /g)?.length).toBe(10);
    expect(first.stdout).toMatch(/^shadow\.link\s+active\s+present\s+success$/m);
    await f.machine.clearLog();
    const second = await runOnce(f);
    expect(second.code).toBe(0);
    expect((await f.ops()).filter((o) => !o.startsWith('loader'))).toEqual([]);
  });

  test('--once exits non-zero when a unit failed, naming it and its dependents', async () => {
    const f = await fixture();
    await f.machine.setFaults([{ op: 'jailhouse enable', errno: 'EINVAL' }]);
    const r = await runOnce(f);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^jailhouse\.hypervisor\s+failed\s+failed\s+exit-code\s+.*jailhouse enable/m);
    expect(r.stdout).toMatch(/^nuttx\.cell\s+failed\s+\S+\s+dependency/m);
    expect((await f.ops()).some((o) => o.startsWith('jailhouse cell create'))).toBe(false);
  });

  test('bad options exit 2 with the fix', async () => {
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(process.execPath, [CRTOSD, '--log-level', 'loud']);
      let err = '';
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      c.on('exit', (code) => resolve({ code, err }));
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown log level 'loud'");
  });

  test('watches its units, reloads on SIGHUP, and SIGTERM leaves cells and loaders running', async () => {
    const f = await fixture();
    const d = startDaemon(f);
    const sources = [...machineChanges(f), ...outputOf(d.child)];
    await until('the bring-up: nuttx running, the loader\'s pid recorded', async () => (await f.machine.state()).jailhouse.cells.some((c) => c.name === 'nuttx' && c.state === 'running') && loaderPid(f) !== undefined, { sources, timeoutMs: 20_000, detail: d.output });
    const pid = stateFile(f).units['hello.loader']!.facts.pid!;
    // An edit is picked up by the watch (an atomic save: write a temp file, rename it over).
    await f.machine.clearLog();
    const text = f.readUnit('hello.yaml').replace('/opt/crtos/apps/hello]', '/opt/crtos/apps/hello, one]');
    f.writeUnit('.hello.yaml.tmp', text);
    renameSync(join(f.unitsDir, '.hello.yaml.tmp'), join(f.unitsDir, 'hello.yaml'));
    // Restarted once crtosd has recorded the new loader's PID: the loader logs its start before
    // crtosd has seen it reach its program, and a SIGTERM in between left no PID to check (a busy
    // machine, two vitest workers).
    await until('the watch to reload and restart the loader with the new argument', async () => (await f.ops()).some((o) => o.endsWith('hello one')) && (loaderPid(f) ?? pid) !== pid, { sources: [...sources, changesOf(f.stateDir)], timeoutMs: 30_000, detail: d.output });
    await f.machine.clearLog();
    d.child.kill('SIGHUP');
    await until('crtosd to log the SIGHUP reload', () => d.output().includes('SIGHUP: reloading unit files'), { sources, timeoutMs: 30_000, detail: d.output });
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const state = await f.machine.state();
    expect(state.jailhouse.cells.find((c) => c.name === 'nuttx')?.state).toBe('running');
    expect((await f.ops()).some((o) => /destroy|shutdown|rmmod|disable/.test(o))).toBe(false);
    const newPid = stateFile(f).units['hello.loader']!.facts.pid!;
    expect(newPid).not.toBe(pid);
    expect(() => process.kill(newPid, 0)).not.toThrow();
    process.kill(newPid, 'SIGKILL');
  });

  test('tells $NOTIFY_SOCKET READY=1, STATUS= and STOPPING=1; --stop-on-exit takes everything down in reverse order', async () => {
    const f = await fixture();
    const notify = await notifyReceiver(f.dir);
    try {
      const d = startDaemon(f, ['--stop-on-exit'], { NOTIFY_SOCKET: notify.socket });
      await until('READY=1', () => notify.messages().includes('READY=1'), { sources: [...notify.sources, ...outputOf(d.child)], timeoutMs: 20_000, detail: () => `notifications: ${notify.messages()}\n${d.output()}` });
      expect(notify.messages()).toMatch(/READY=1 STATUS=10 units: 10 active/);
      await f.machine.clearLog();
      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(0);
      // The receiver prints what it got in its own time: the daemon's exit does not wait for it.
      await until('STOPPING=1', () => notify.messages().includes('STOPPING=1'), { sources: notify.sources, timeoutMs: 5000, detail: notify.messages });
      const ops = (await f.ops()).filter((o) => !o.startsWith('loader') && !o.startsWith('cell '));
      const at = (prefix: string) => ops.findIndex((o) => o.startsWith(prefix));
      expect(at('jailhouse cell destroy')).toBeGreaterThanOrEqual(0);
      expect(at('jailhouse cell destroy')).toBeLessThan(at('jailhouse disable'));
      expect(at('rmmod shadow')).toBeLessThan(at('jailhouse disable'));
      expect(at('ip addr del')).toBeLessThan(at('rmmod ivshmem_net'));
      expect(at('jailhouse disable')).toBeLessThan(at('rmmod jailhouse'));
      const state = await f.machine.state();
      expect(state.jailhouse.enabled).toBe(false);
      expect(state.modules).toEqual([]);
    } finally {
      notify.stop();
    }
  });
});
