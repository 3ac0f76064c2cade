/**
 * Loaders run as systemd runs services: the whole process group stopped with the loader (a
 * wrapper script's children included, also when the main process is gone already), working
 * directory `/` (the machine root), user, group and resource limits from the unit. Asserted on
 * the real /proc, as the loaders are real processes also on the simulated machine.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { until, makeFixture, managerEvents, untilUnit, pidOf, type Fixture } from '../../engine/harness.js';
import type { Manager } from '../../../src/engine/manager.js';
import type { JobInfo, JobResult } from '../../../src/engine/manager-api.js';

/** PIDs of live processes whose environment holds `CRTOS_TEST_MARK=mark` (the loader and every child). */
function marked(mark: string): number[] {
  const wanted = `CRTOS_TEST_MARK=${mark}`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(wanted)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Whether process `pid` now runs `program` (its wrappers exec'd into it). */
function running(pid: number, program: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === program;
  } catch {
    return false;
  }
}


/** Resolves with the result of the job `start` queues, once JobRemoved announces it. */
function job(m: Manager, id: string, type: 'start' | 'stop' | 'restart'): Promise<JobResult> {
  return new Promise((resolve) => {
    // JobRemoved comes from a later pass, never from within enqueue.
    const removed = (info: JobInfo, result: JobResult) => {
      if (info.id !== mine.id) return;
      m.off('jobRemoved', removed);
      resolve(result);
    };
    m.on('jobRemoved', removed);
    const mine = m.enqueue(id, type);
  });
}

describe('Loader processes', () => {
  let f: Fixture;
  let m: Manager | undefined;
  /** Every test's mark: whatever carries one is killed at the end, whatever a failed test left. */
  const marks: string[] = [];
  const mark = () => {
    marks.push(randomBytes(8).toString('hex'));
    return marks.at(-1)!;
  };

  /** A script under the machine root at `path`, and a Loader unit `name` running it (for this test only). */
  function loader(name: string, path: string, script: string, fields: string): string {
    const file = join(f.machine.dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\n${script}\n`);
    chmodSync(file, 0o755);
    const environment = fields.includes('CRTOS_TEST_MARK') ? '' : `\nenvironment: { CRTOS_TEST_MARK: "${mark()}" }`;
    f.writeUnit(`${name}.yaml`, `kind: Loader\nname: ${name}\nexec: [${path}]\n${fields}${environment}\n`);
    return `${name}.loader`;
  }

  beforeAll(async () => {
    f = await makeFixture({ units: mkdtempSync(join(tmpdir(), 'crtos-no-units-')) });
    // Loaders that drop root's privileges must reach their script in the fixture directory.
    chmodSync(f.dir, 0o755);
  });
  afterEach(() => {
    m?.close();
    m = undefined;
    // The next test's daemon starts only that test's units.
    for (const file of readdirSync(f.unitsDir)) rmSync(join(f.unitsDir, file));
  });
  afterAll(async () => {
    for (const pid of marks.flatMap(marked)) process.kill(pid, 'SIGKILL');
    await f.cleanup();
  });

  test('stopping a loader stops its wrapper script and every child the script started', async () => {
    const tag = mark();
    const id = loader('wrapper', '/opt/test/wrapper.sh', 'sleep 300 &\nsleep 300 &\nwait', `environment: { CRTOS_TEST_MARK: "${tag}" }`);
    m = f.manager();
    await m.start();
    const up = await untilUnit(m, id, (s) => s.activeState === 'active');
    await until(() => marked(tag).length === 3);
    expect(marked(tag)).toContain(pidOf(up));
    expect(await job(m, id, 'stop')).toBe('done');
    expect(marked(tag)).toEqual([]);
  });

  test('children that ignore stopSignal are killed after stopTimeout', async () => {
    const tag = mark();
    const id = loader('stubborn', '/opt/test/stubborn.sh', "trap '' TERM\nsleep 300 &\nsleep 300 &\nwait", `environment: { CRTOS_TEST_MARK: "${tag}" }\nstopTimeout: 200ms`);
    m = f.manager();
    await m.start();
    await untilUnit(m, id, (s) => s.activeState === 'active');
    await until(() => marked(tag).length === 3);
    expect(await job(m, id, 'stop')).toBe('done');
    expect(marked(tag)).toEqual([]);
    expect(m.unitLog(id, 0).map((l) => l.message)).toContainEqual(expect.stringMatching(/^3 process\(es\) of process \d+'s group did not exit within 200 ms of SIGTERM; sent SIGKILL$/));
  });

  test('what the main process leaves behind when it exits is stopped with it', async () => {
    const tag = mark();
    const id = loader('leaver', '/opt/test/leaver.sh', 'sleep 300 &\nsleep 300 &\nexit 0', `environment: { CRTOS_TEST_MARK: "${tag}" }`);
    m = f.manager();
    await m.start();
    await untilUnit(m, id, (s) => s.activeState === 'inactive' && s.result === 'success' && s.timestamps.activeEnter > 0);
    await until(() => marked(tag).length === 0);
    await until(() => m!.unitLog(id, 0).some((l) => l.message === 'stopped 2 process(es) its main process left behind'), 15_000, 'the log line of the leftovers stopped', [managerEvents(m)]);
  });

  test('a restarted daemon stops what a loader that died meanwhile left, before starting it again', async () => {
    const tag = mark();
    const id = loader('orphans', '/opt/test/orphans.sh', 'sleep 300 &\nsleep 300 &\nwait', `environment: { CRTOS_TEST_MARK: "${tag}" }`);
    m = f.manager();
    await m.start();
    const first = pidOf(await untilUnit(m, id, (s) => s.activeState === 'active'));
    await until(() => marked(tag).length === 3);
    m.close();
    // The main process dies while no daemon runs; its two children live on.
    process.kill(first, 'SIGKILL');
    await until(() => marked(tag).length === 2);
    const orphans = marked(tag);
    m = f.manager();
    await m.start();
    const second = pidOf(await untilUnit(m, id, (s) => s.activeState === 'active' && pidOf(s) !== first && pidOf(s) > 0));
    await until(() => marked(tag).length === 3);
    expect(marked(tag).filter((p) => orphans.includes(p))).toEqual([]);
    expect(marked(tag)).toContain(second);
    expect(await job(m, id, 'stop')).toBe('done');
  });

  test('an adopted loader is stopped with its children too', async () => {
    const tag = mark();
    const id = loader('adopted', '/opt/test/adopted.sh', 'sleep 300 &\nwait', `environment: { CRTOS_TEST_MARK: "${tag}" }`);
    m = f.manager();
    await m.start();
    const pid = pidOf(await untilUnit(m, id, (s) => s.activeState === 'active'));
    await until(() => marked(tag).length === 2);
    m.close();
    m = f.manager();
    await m.start();
    expect(pidOf(await untilUnit(m, id, (s) => s.activeState === 'active'))).toBe(pid);
    expect(await job(m, id, 'stop')).toBe('done');
    expect(marked(tag)).toEqual([]);
  });

  test('runs in / (the machine root), or in its workingDirectory', async () => {
    const a = loader('cwd-default', '/opt/test/sleeper.sh', 'exec sleep 300', '');
    const b = loader('cwd-set', '/opt/test/sleeper2.sh', 'exec sleep 300', 'workingDirectory: /opt/test');
    m = f.manager();
    await m.start();
    const pa = pidOf(await untilUnit(m, a, (s) => s.activeState === 'active'));
    const pb = pidOf(await untilUnit(m, b, (s) => s.activeState === 'active'));
    expect(readlinkSync(`/proc/${pa}/cwd`)).toBe(f.machine.dir);
    expect(readlinkSync(`/proc/${pb}/cwd`)).toBe(join(f.machine.dir, 'opt/test'));
    expect(await job(m, a, 'stop')).toBe('done');
    expect(await job(m, b, 'stop')).toBe('done');
  });

  test('runs as its user and group with its resource limits; a changed limit restarts it', async () => {
    const nogroup = execFileSync('id', ['-gn', 'nobody'], { encoding: 'utf8' }).trim();
    const uid = execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim();
    const fields = (nofile: number) => `user: nobody\ngroup: ${nogroup}\nlimits: { memlock: 64K, nofile: ${nofile}, core: infinity }`;
    const id = loader('unprivileged', '/opt/test/unprivileged.sh', 'exec sleep 300', fields(4096));
    m = f.manager();
    await m.start();
    const pid = pidOf(await untilUnit(m, id, (s) => s.activeState === 'active'));
    // Once prlimit and setpriv have exec'd into the script, and the script into sleep.
    await until(() => running(pid, 'sleep'));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(uid);
    expect(/^Gid:\s+(\d+)/m.exec(status)?.[1]).toBe(gid);
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    expect(limits).toMatch(/^Max locked memory\s+65536\s+65536\s+bytes/m);
    expect(limits).toMatch(/^Max open files\s+4096\s+4096\s+files/m);
    expect(limits).toMatch(/^Max core file size\s+unlimited\s+unlimited\s+bytes/m);
    f.writeUnit('unprivileged.yaml', readFileSync(join(f.unitsDir, 'unprivileged.yaml'), 'utf8').replace(fields(4096), fields(2048)));
    expect((await m.reload()).steps).toEqual([{ unit: id, action: 'restart', reason: expect.stringContaining('limits') }]);
    const again = pidOf(await untilUnit(m, id, (s) => s.activeState === 'active' && pidOf(s) !== pid && pidOf(s) > 0));
    await until(() => running(again, 'sleep'));
    expect(readFileSync(`/proc/${again}/limits`, 'utf8')).toMatch(/^Max open files\s+2048\s+2048\s+files/m);
    expect(await job(m, id, 'stop')).toBe('done');
  });
});
