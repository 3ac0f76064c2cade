/**
 * 200 reloads of a running crtosd (issue 10, item 7): resident memory, the JavaScript heap and the
 * open file descriptors measured after a full collection at reload 50 and reload 200 stay within
 * 10 %. crtosd runs as `node dist/crtosd.mjs` (no NODE_OPTIONS: the young generation is crtosd's
 * own business, src/daemon/heap.ts) plus --expose-gc and a test-only preload (gc-probe.mjs) that
 * collects and reports on SIGUSR2.
 */
import { afterEach, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { makeFixture, type Fixture } from '../engine/harness.js';
import { every, until, waitFor } from '../helpers/wait-for.js';
import { daemonArgs, machineChanges, outputOf } from './run.js';
import { startPrivateBus, type PrivateBus } from '../dbus/helpers/private-bus.js';
import { WireConnection } from '../../src/dbus/wire/connection.js';
import { BUS_NAME, MANAGER_IFACE, MANAGER_PATH, PROPERTIES_IFACE, UNIT_IFACE } from '../../src/dbus/names.js';

const PROBE = join(import.meta.dirname, 'gc-probe.mjs');

interface Probe {
  rss: number;
  heapUsed: number;
  /** Bytes of V8's young generation (both semi-spaces). */
  newSpace: number;
  fds: number;
}

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

test('200 reloads: resident memory, heap and file descriptors flat between reload 50 and 200', async () => {
  const f: Fixture = await makeFixture();
  cleanups.push(() => f.cleanup());
  const bus: PrivateBus = await startPrivateBus();
  cleanups.push(() => bus.stop());
  const child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, ...daemonArgs(f, ['--bus', bus.address])], {
    env: { ...f.machine.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));

  const conn = await WireConnection.open(bus.address);
  cleanups.push(() => conn.close());
  const call = (path: string, iface: string, member: string, signature = '', body: unknown[] = []) => conn.call({ destination: BUS_NAME, path, interface: iface, member, signature, body });
  const activeUnits = async () => {
    const [rows] = await call(MANAGER_PATH, MANAGER_IFACE, 'ListUnits').catch(() => [[]]);
    return (rows as unknown[][]).filter((r) => r[3] === 'active').length;
  };
  // The units' states reach D-Bus just after the state file and the machine change; the slow
  // tick catches the last change when the call that saw it came a moment too early.
  await until('the bring-up: 10 units active on D-Bus', async () => (await activeUnits()) === 10, {
    sources: [...machineChanges(f), ...outputOf(child), every(500)],
    timeoutMs: 30_000,
    detail: () => out,
  });

  const probeOnce = async (): Promise<Probe> => {
    const seen = out.split('GC-PROBE ').length;
    child.kill('SIGUSR2');
    const line = await waitFor('the probe to report', () => (out.split('GC-PROBE ').length > seen ? out.split('GC-PROBE ')[seen]!.split('\n').slice(0, -1)[0] : undefined), {
      sources: outputOf(child),
      timeoutMs: 10_000,
      detail: () => out,
    });
    return JSON.parse(line) as Probe;
  };
  // The least of three: a tool run that happens to be in flight holds pipes and buffers.
  const probe = async (): Promise<Probe> => {
    const p = [await probeOnce(), await probeOnce(), await probeOnce()];
    const least = (k: keyof Probe) => Math.min(...p.map((x) => x[k]));
    return { rss: least('rss'), heapUsed: least('heapUsed'), newSpace: least('newSpace'), fds: least('fds') };
  };

  // Every fifth reload toggles hello.loader's description, so the set really changes; the others
  // reload the same files. The watch reloads after each edit too.
  const descriptions = ['hello on NuttX, through the cRTOS loader', 'hello on NuttX (edited)'];
  const started = Date.now();
  let at50: Probe | undefined;
  let description = descriptions[0]!;
  let edits = 0;
  for (let i = 1; i <= 200; i++) {
    if (i % 5 === 2) {
      description = descriptions[++edits % 2]!;
      f.writeUnit('hello.yaml', f.readUnit('hello.yaml').replace(/^description: .*$/m, `description: ${description}`));
    }
    const [ok, problems] = await call(MANAGER_PATH, MANAGER_IFACE, 'Reload');
    if (ok !== true) throw new Error(`reload ${i} failed: ${JSON.stringify(problems)}\n${out}`);
    if (i === 50) at50 = await probe();
  }
  const at200 = await probe();
  const seconds = (Date.now() - started) / 1000;

  const [shown] = await call('/org/crtos/unit/hello_2eloader', PROPERTIES_IFACE, 'Get', 'ss', [UNIT_IFACE, 'Description']);
  expect(shown).toBe(description);
  expect(await activeUnits()).toBe(10);

  const mb = (n: number) => (n / 1e6).toFixed(1);
  const figures = `after a GC, reload 50 → 200 (${seconds.toFixed(1)} s for 200 reloads): RSS ${mb(at50!.rss)} → ${mb(at200.rss)} MB, heap ${mb(at50!.heapUsed)} → ${mb(at200.heapUsed)} MB, young generation ${mb(at50!.newSpace)} → ${mb(at200.newSpace)} MB, fds ${at50!.fds} → ${at200.fds}`;
  expect(at200.rss / at50!.rss, figures).toBeLessThanOrEqual(1.1);
  expect(at200.heapUsed / at50!.heapUsed, figures).toBeLessThanOrEqual(1.1);
  expect(at200.fds / at50!.fds, figures).toBeLessThanOrEqual(1.1);
  // What grew in the issue (73 → 106 MB by reload 50, then flat, so a ratio from reload 50 on would
  // not see it) was V8's young generation, doubled up to 2 × 16 MB: it stays within the packaged
  // service's cap of 2 × 2 MB however crtosd is started.
  expect(at200.newSpace, figures).toBeLessThanOrEqual(4.5e6);
  console.info(figures);
  // Only bounds a run that failed: 200 reloads took over 120 s with two vitest workers on the busy
  // 2-core machine, beside a CPU hog and the other suites.
}, 300_000);
