// The whole path: a simulated machine, crtosd (dist/crtosd.mjs) serving a private dbus-daemon,
// and clients that are not ours (gdbus, busctl) beside crtosctl (dist/crtosctl.cjs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSimMachine, destroySimMachine, type SimMachine } from '../../src/sim/index.js';
import { startPrivateBus, type PrivateBus } from './helpers/private-bus.js';
import { run } from './helpers/run.js';
import { dataOf, eventsOf, until, waitFor } from '../helpers/wait-for.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CRTOSD = join(ROOT, 'dist/crtosd.mjs');
const CRTOSCTL = join(ROOT, 'dist/crtosctl.cjs');

let dir: string;
let bus: PrivateBus;
let machine: SimMachine;
let daemon: ChildProcess;
let daemonLog = '';

const ctl = (...args: string[]) => run(process.execPath, [CRTOSCTL, '--bus', bus.address, ...args], { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } }); // C: trees in ASCII, whatever the machine's locale

/**
 * Resolves with the first value of `check` other than false, re-checked on each line crtosd
 * prints (it logs every unit started or stopped, its output lines, the bus it serves); crtosd
 * exiting first fails the wait.
 */
function untilDaemon<T>(what: string, check: () => Promise<T | false>, timeoutMs: number): Promise<T> {
  return waitFor(
    what,
    async () => {
      if (daemon.exitCode !== null || daemon.signalCode !== null) throw new Error(`crtosd ended (${daemon.exitCode ?? daemon.signalCode}) before ${what}:\n${daemonLog}`);
      return check();
    },
    { sources: [dataOf(daemon.stdout), dataOf(daemon.stderr), eventsOf(daemon, 'exit')], timeoutMs, detail: () => `crtosd's output:\n${daemonLog}` },
  ) as Promise<T>;
}

/** gdbus monitor of one of crtosd's objects, once it listens; `shows` waits for its output to match. */
async function monitorOf(path: string) {
  const child = spawn('gdbus', ['monitor', '--address', bus.address, '--dest', 'org.crtos.Manager1', '--object-path', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  child.stdout.on('data', (d: Buffer) => (seen += d.toString()));
  const shows = (match: string | RegExp, timeoutMs = 5000) =>
    until(
      `gdbus monitor of ${path} to print ${String(match)}`,
      () => {
        if (typeof match === 'string' ? seen.includes(match) : match.test(seen)) return true;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gdbus monitor of ${path} ended before printing ${String(match)}:\n${seen}`);
        return false;
      },
      { sources: [dataOf(child.stdout), eventsOf(child, 'exit')], timeoutMs, detail: () => `its output:\n${seen}` },
    );
  try {
    await shows('Monitoring signals');
  } catch (e) {
    child.kill();
    throw e;
  }
  return { seen: () => seen, shows, stop: () => void child.kill() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crtos-e2e-'));
  bus = await startPrivateBus();
  machine = await createSimMachine(join(dir, 'machine'));
  const endpoint = machine.readinessEndpoint('nuttx');
  if (!endpoint) throw new Error('the simulated machine has no readiness endpoint');
  const dropins = join(dir, 'dropins');
  mkdirSync(join(dropins, 'nuttx.cell.d'), { recursive: true });
  writeFileSync(join(dropins, 'nuttx.cell.d', '50-loopback.yaml'), `ready: { tcp: "${endpoint.host}:${endpoint.port}", timeout: 10s }\n`);
  daemon = spawn(
    process.execPath,
    [CRTOSD, '--root', machine.dir, '--units', join(ROOT, 'units/crtos'), '--units', dropins, '--bus', bus.address, '--state-dir', join(dir, 'run'), '--poll-interval', '100', '--stop-on-exit'],
    { env: machine.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  daemon.stdout?.on('data', (d: Buffer) => (daemonLog += d.toString()));
  daemon.stderr?.on('data', (d: Buffer) => (daemonLog += d.toString()));
  await untilDaemon(
    'the bring-up (crtosctl is-active hello.loader nuttx.cell: active, active)',
    async () => {
      const r = await ctl('is-active', 'hello.loader', 'nuttx.cell');
      return r.code === 0 && r.stdout === 'active\nactive\n';
    },
    30_000,
  );
}, 60_000);

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    const gone = new Promise((r) => daemon.once('exit', r));
    daemon.kill('SIGTERM');
    await gone;
  }
  await bus?.stop();
  if (machine) await destroySimMachine(machine.dir).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('crtosd + crtosctl on a simulated machine', () => {
  it('shows the brought-up example in the overview', async () => {
    const r = await ctl('status');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\* crtosd \d+\.\d+\.\d+/);
    expect(r.stdout).toMatch(/^ +Hypervisor: jailhouse\.hypervisor active \(enabled\)$/m);
    expect(r.stdout).toMatch(/^\* nuttx\.cell +active \(running\)/m);
    expect(r.stdout).toMatch(/^ +Units: 10 loaded \(10 active, 0 failed, 0 other\)$/m);
    expect(r.stdout).toMatch(/^\* shadow\.link +active \(present\)/m);
  });

  it('shows a cell with its drop-in, Jailhouse id and state, and CPUs', async () => {
    const r = await ctl('status', 'nuttx.cell');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ +Drop-In: .*\/dropins\/nuttx\.cell\.d\n +`-50-loopback\.yaml$/m);
    expect(r.stdout).toMatch(/^ +Active: active \(running\) since /m);
    expect(r.stdout).toMatch(/^ +Cell ID: [1-9]\d*$/m);
    expect(r.stdout).toMatch(/^ +Jailhouse: running$/m);
    expect(r.stdout).toMatch(/^ +CPUs: \d[\d,-]*$/m);
    const cat = await ctl('cat', 'nuttx.cell');
    expect(cat.stdout).toContain('50-loopback.yaml\nready: { tcp: "127.');
  });

  it('announces the state changes of a restart as PropertiesChanged (gdbus monitor)', async () => {
    const before = Number((await ctl('show', 'hello.loader', '-p', 'MainPID', '--value')).stdout);
    const monitor = await monitorOf('/org/crtos/unit/hello_2eloader');
    try {
      const r = await ctl('restart', 'hello.loader');
      expect(r).toMatchObject({ code: 0, stderr: '' });
      await monitor.shows(/'ActiveState': <'active'>/);
      expect(monitor.seen()).toMatch(/'ActiveState': <'(deactivating|inactive|activating)'>/);
      expect(monitor.seen()).toMatch(/org\.crtos\.Loader1', \{[^}]*'MainPID': <uint32 \d+>/);
    } finally {
        monitor.stop();
    }
    const after = Number((await ctl('show', 'hello.loader', '-p', 'MainPID', '--value')).stdout);
    expect(after).toBeGreaterThan(0);
    expect(after).not.toBe(before);
  });

  it('stops a loader on request and reports is-active 3, then starts it again', async () => {
    expect((await ctl('stop', 'hello.loader')).code).toBe(0);
    expect(await ctl('is-active', 'hello.loader')).toMatchObject({ code: 3, stdout: 'inactive\n' });
    const busctl = await run('busctl', [`--address=${bus.address}`, 'get-property', 'org.crtos.Manager1', '/org/crtos/unit/hello_2eloader', 'org.crtos.Loader1', 'MainPID']);
    expect(busctl.stdout.trim()).toBe('u 0');
    expect((await ctl('start', 'hello.loader')).code).toBe(0);
    expect((await ctl('is-active', 'hello.loader')).code).toBe(0);
  });

  it('plans nothing when the machine matches the files', async () => {
    expect(await ctl('plan')).toMatchObject({ code: 0, stdout: 'Nothing to do: the machine matches the unit files.\n' });
  });

  it('shows a loader\'s last lines of output in its status, beside crtosd\'s own', async () => {
    mkdirSync(join(machine.dir, 'opt/test'), { recursive: true });
    writeFileSync(join(machine.dir, 'opt/test/talk.sh'), '#!/bin/sh\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "line $i"; done\necho "on stderr" >&2\nexec sleep 300\n', { mode: 0o755 });
    const unit = join(dir, 'dropins', 'talk.yaml');
    // Its removal at the end is announced by UnitRemoved on the manager's object.
    const manager = await monitorOf('/org/crtos/Manager1');
    writeFileSync(unit, 'kind: Loader\nname: talk\nexec: [/opt/test/talk.sh]\n');
    try {
      const r = await untilDaemon(
        'crtosctl status talk.loader to show its line on stderr',
        async () => {
          const status = await ctl('status', 'talk.loader');
          return status.stdout.includes('on stderr') && status;
        },
        15_000,
      );
      const pid = /^ +Main PID: (\d+)$/m.exec(r.stdout)?.[1];
      // The last 10 lines of the unit's log (systemctl's default): the loader's, labelled as the journal labels them.
      const log = r.stdout.split('\n\n')[1]?.trimEnd().split('\n') ?? [];
      expect(log).toHaveLength(10);
      expect(log.at(-1)).toMatch(new RegExp(`^\\w{3} \\d\\d \\d\\d:\\d\\d:\\d\\d talk\\.loader: talk\\.sh\\[${pid}\\]: on stderr$`));
      expect(log.at(-2)).toMatch(/ talk\.loader: talk\.sh\[\d+\]: line 12$/);
      expect(readFileSync(join(dir, 'run/logs/talk.loader.log'), 'utf8')).toContain('line 1\nline 2\n');
    } finally {
      rmSync(unit);
      await manager.shows(/UnitRemoved \('talk\.loader'/, 15_000).finally(() => manager.stop());
    }
    expect((await ctl('status', 'talk.loader')).code).toBe(4);
  });
});
