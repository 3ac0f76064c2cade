/** `crtos-sim` as people and scripts use it: the bundled command, run as a process. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { destroySimMachine, openSimMachine } from '../../src/sim/index.js';
import { afterAll } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/crtos-sim.mjs', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await destroySimMachine(d);
});

function sim(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

function newDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'crtos-sim-cli-')), 'm');
  dirs.push(dir);
  return dir;
}

describe('crtos-sim', () => {
  it('creates a machine, prints its environment and log, sets faults', async () => {
    const dir = newDir();
    const created = await sim('create', dir);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/readiness endpoint of nuttx: 127\.\d+\.\d+\.\d+:\d+/);
    const env = await sim('env', dir);
    expect(env.stdout).toBe(`export PATH='${join(dir, 'bin')}:${process.env.PATH ?? ''}'\n`);

    expect((await sim('fault', dir, 'jailhouse enable', '--errno', 'EBUSY', '--times', '2', '--target', 'sysconfig.cell')).code).toBe(0);
    expect((await sim('fault', dir, '--latency', 'insmod=25')).code).toBe(0);
    expect((await sim('fault', dir, '--fail-cell', 'nuttx', '--after', '1000')).code).toBe(0);
    const m = openSimMachine(dir);
    expect(await m.faults()).toEqual({
      faults: [{ op: 'jailhouse enable', errno: 'EBUSY', times: 2, target: 'sysconfig.cell' }],
      latencies: { insmod: 25 },
      cellFailures: [{ cell: 'nuttx', afterStartMs: 1000 }],
      // Made from the command line, the machine takes the real hypervisor's times.
      timings: { destroyMs: 500, disableMs: 1000, replyPollNs: 100 },
    });
    await m.runInProcess('modprobe', ['jailhouse']);
    const log = await sim('log', dir);
    expect(log.stdout).toMatch(/modprobe\s+ok\s+jailhouse\n$/);
    const json = await sim('log', dir, '--json');
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ op: 'modprobe', args: ['jailhouse'], result: 'ok' });
    expect((await sim('fault', dir, '--clear')).code).toBe(0);
    expect(await m.faults()).toEqual({ faults: [], latencies: {}, cellFailures: [] });
  });

  it('create --fast-timings leaves the short defaults the test helpers use', async () => {
    const dir = newDir();
    expect((await sim('create', dir, '--fast-timings')).code).toBe(0);
    expect((await openSimMachine(dir).faults()).timings).toBeUndefined();
  });

  it('sets a failure inside the start, the phase timings, and clears them', async () => {
    const dir = newDir();
    expect((await sim('create', dir)).code).toBe(0);
    expect((await sim('fault', dir, '--fail-cell', 'nuttx', '--at-start', '--times', '1')).code).toBe(0);
    expect((await sim('fault', dir, '--timing', 'destroy=300')).code).toBe(0);
    const m = openSimMachine(dir);
    expect(await m.faults()).toEqual({ faults: [], latencies: {}, cellFailures: [{ cell: 'nuttx', atStart: true, times: 1 }], timings: { destroyMs: 300, disableMs: 1000, replyPollNs: 100 } });
    expect((await sim('fault', dir, '--real-timings')).code).toBe(0);
    expect((await m.faults()).timings).toEqual({ destroyMs: 500, disableMs: 1000, replyPollNs: 100 });
    expect((await sim('fault', dir, '--timing', 'disable=0')).code).toBe(0);
    expect((await m.faults()).timings).toEqual({ destroyMs: 500, disableMs: 0, replyPollNs: 100 });
    // The failure fires inside `cell start`, through the stand-in as crtosd runs it.
    await m.bringUp('loaded');
    expect((await m.run('jailhouse', ['cell', 'start', 'nuttx'])).code).toBe(0);
    expect((await m.state()).jailhouse.cells[0]).toMatchObject({ state: 'failed', failedCpus: [3] });
    expect((await sim('fault', dir, '--clear')).code).toBe(0);
    expect(await m.faults()).toEqual({ faults: [], latencies: {}, cellFailures: [] });
    expect(await sim('fault', dir, '--timing', 'boot=5')).toMatchObject({ code: 2, stderr: expect.stringContaining('--timing takes NAME=MS, NAME one of destroy, disable') });
    expect(await sim('fault', dir, '--fail-cell', 'nuttx', '--at-start', '--after', '5')).toMatchObject({ code: 2, stderr: expect.stringContaining('--fail-cell needs one of') });
    expect(await sim('fault', dir, '--fail-cell', 'nuttx', '--at-start', '--times', '0')).toMatchObject({ code: 2, stderr: expect.stringContaining('--times takes a positive integer') });
  });

  it('takes a machine description file in JSON or YAML, and names a broken one', async () => {
    const dir = newDir();
    const file = join(tmpdir(), `crtos-sim-desc-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ cpus: 2, readiness: [{ cell: 'nuttx', host: '127.0.0.1', port: 0 }] }));
    expect((await sim('create', dir, '--machine', file)).code).toBe(0);
    expect(openSimMachine(dir).description.cpus).toBe(2);
    const yamlDir = newDir();
    const yamlFile = join(tmpdir(), `crtos-sim-desc-${process.pid}.yaml`);
    writeFileSync(yamlFile, 'cpus: 6\nofflineCpus: [5]\n');
    expect((await sim('create', yamlDir, '--machine', yamlFile)).code).toBe(0);
    expect(openSimMachine(yamlDir).description).toMatchObject({ cpus: 6, offlineCpus: [5] });
    writeFileSync(file, '{ nope');
    expect(await sim('create', newDir(), '--machine', file)).toMatchObject({ code: 1, stderr: expect.stringContaining(`crtos-sim: ${file}:`) });
  });

  it('makes the RTMux example machine with --example rtmux', async () => {
    const dir = newDir();
    expect((await sim('create', dir, '--example', 'rtmux')).code).toBe(0);
    const m = openSimMachine(dir);
    expect(m.description).toMatchObject({ arch: 'arm', cpus: 1, example: 'rtmux' });
    expect((await m.run('insmod', ['/lib/modules/rtvmm.ko'])).code).toBe(0);
    expect(await sim('create', newDir(), '--example', 'qnx')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown example "qnx"') });
  });

  it('explains bad usage', async () => {
    expect(await sim()).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: crtos-sim') });
    const dir = newDir();
    await sim('create', dir);
    expect(await sim('fault', dir, 'jailhouse enable', '--errno', 'ENOPE')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown errno ENOPE') });
    expect(await sim('fault', dir, 'frob', '--hang')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown operation "frob"') });
    expect(await sim('create', dir)).toMatchObject({ code: 1, stderr: expect.stringContaining('already holds a simulated machine') });
  });
});
