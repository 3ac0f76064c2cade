/**
 * `crtosctl logs` as users run it (dist/crtosctl.cjs) against a real crtosd on the simulated
 * machine through a private bus: a unit's lines, a loader's own output, every unit's and the
 * daemon-wide lines in time order, -n, --since, -f receiving new lines and carrying on across a
 * crtosd restart, exit 4 for an unknown unit and 1 without a daemon. The follower's cursor is
 * checked on its own first.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFixture, type Fixture } from '../../engine/harness.js';
import { dataOf, eventsOf, until } from '../../helpers/wait-for.js';
import { outputOf, startDaemon, type Daemon } from '../../daemon/run.js';
import { startPrivateBus, type PrivateBus } from '../../dbus/helpers/private-bus.js';
import { run } from '../../dbus/helpers/run.js';
import { FollowCursor } from '../../../src/cli/verbs/logs.js';
import type { LogLine } from '../../../src/engine/manager-api.js';
import { ctlInProcess } from '../helpers/in-process.js';

const CRTOSCTL = fileURLToPath(new URL('../../../dist/crtosctl.cjs', import.meta.url));

describe('FollowCursor', () => {
  const l = (time: number, message: string, unit = 'a.cell'): LogLine => ({ time, level: 'info', unit, message });

  test('asked again from the last time, prints only what it has not: equal lines at that time are counted', () => {
    const c = new FollowCursor();
    expect(c.fresh([l(1, 'x'), l(2, 'y'), l(2, 'y')])).toEqual([l(1, 'x'), l(2, 'y'), l(2, 'y')]);
    expect(c.since).toBe(2);
    // A third 'y' at time 2 and a line of another unit at time 2 arrived meanwhile.
    expect(c.fresh([l(2, 'z', 'b.cell'), l(2, 'y'), l(2, 'y'), l(2, 'y'), l(3, 'w')])).toEqual([l(2, 'z', 'b.cell'), l(2, 'y'), l(3, 'w')]);
    expect(c.since).toBe(3);
    expect(c.fresh([l(3, 'w')])).toEqual([]);
  });
});

test('--help shows units as optional, as logs runs without one', async () => {
  const r = await ctlInProcess('logs', '--help');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Usage: crtosctl logs [OPTIONS...] [UNIT...]\n');
});

describe('crtosctl logs on a running crtosd', () => {
  let bus: PrivateBus;
  let f: Fixture;
  let d: Daemon;
  const env = () => ({ ...process.env, CRTOS_BUS_ADDRESS: bus.address, TZ: 'UTC' });
  const ctl = (...args: string[]) => run(process.execPath, [CRTOSCTL, 'logs', ...args], { env: env() });
  const jsonLines = async (...args: string[]): Promise<LogLine[]> => {
    const r = await ctl('--json', ...args);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as LogLine[];
  };

  beforeAll(async () => {
    bus = await startPrivateBus();
    f = await makeFixture();
    const script = join(f.machine.dir, 'opt/test/talker.sh');
    mkdirSync(dirname(script), { recursive: true });
    writeFileSync(script, '#!/bin/sh\necho "hello from the talker"\nexec sleep 300\n');
    chmodSync(script, 0o755);
    f.writeUnit('talker.yaml', 'kind: Loader\nname: talker\nexec: [/opt/test/talker.sh]\n');
    d = startDaemon(f, ['--bus', bus.address]);
    // The daemon's own log (JSON lines on stdout) shows the bring-up and the talker's line.
    await until('the bring-up and the talker\'s output', () => /"unit":"hello\.loader","msg":"started"/.test(d.output()) && d.output().includes('hello from the talker'), {
      sources: outputOf(d.child),
      timeoutMs: 30_000,
      detail: d.output,
    });
  });
  afterAll(async () => {
    d?.child.kill('SIGTERM');
    await d?.exited;
    await f?.cleanup();
    await bus?.stop();
  });

  test("a unit's lines, oldest first, in systemctl status's form", async () => {
    const r = await ctl('nuttx.cell');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.every((l) => /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d nuttx\.cell: /.test(l))).toBe(true);
    expect(lines.map((l) => l.replace(/^.*? nuttx\.cell: /, ''))).toEqual(['start: new unit', 'started']);
  });

  test("a loader's own output, labelled with its program and PID", async () => {
    const r = await ctl('talker.loader');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ talker\.loader: talker\.sh\[\d+\]: hello from the talker$/m);
  });

  test('no unit: every unit and the daemon-wide lines, in time order', async () => {
    const all = await jsonLines();
    expect(all.some((l) => l.unit === undefined && l.message.startsWith('crtosd 0.1.0 starting units='))).toBe(true);
    expect(new Set(all.map((l) => l.unit)).size).toBeGreaterThan(5);
    expect(all.map((l) => l.time)).toEqual([...all.map((l) => l.time)].sort((a, b) => a - b));
    const text = await ctl();
    expect(text.stdout).toMatch(/^\w{3} \d\d [\d:]{8} crtosd: crtosd 0\.1\.0 starting units=/m);
  });

  test('-n N: the last N lines', async () => {
    const all = await jsonLines('nuttx.cell', 'hello.loader');
    expect(all.length).toBeGreaterThan(3);
    expect(await jsonLines('-n', '3', 'nuttx.cell', 'hello.loader')).toEqual(all.slice(-3));
    expect((await ctl('--lines=1', 'nuttx.cell')).stdout).toMatch(/nuttx\.cell: started\n$/);
  });

  test('--since: journalctl\'s times', async () => {
    const all = await jsonLines();
    const first = all[0]!;
    const last = all[all.length - 1]!;
    const utc = (usec: number) => new Date(usec / 1000).toISOString().slice(0, 19).replace('T', ' ');
    // The second the first line fell in: everything; the second after the last line: nothing.
    expect(await jsonLines('--since', utc(first.time))).toEqual(all);
    expect(await jsonLines('--since', utc(last.time + 1_000_000))).toEqual([]);
    expect(await jsonLines('--since', '-10min')).toEqual(all);
    expect(await jsonLines('--since', '5 min ago')).toEqual(all);
    expect(await jsonLines('--since', 'today')).toEqual(all.filter((l) => l.time >= Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) * 1000));
    const mid = all[Math.floor(all.length / 2)]!;
    expect(await jsonLines('--since', `@${mid.time / 1e6}`)).toEqual(all.filter((l) => l.time >= mid.time));
    const bad = await ctl('--since', 'soonish');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--since: cannot read 'soonish' as a time");
  });

  test('an unknown unit: exit 4; no daemon: exit 1', async () => {
    const r = await ctl('nuttx.cell', 'nope.cell');
    expect(r).toMatchObject({ code: 4, stdout: '', stderr: 'Unit nope.cell not found.\n' });
    const none = await run(process.execPath, [CRTOSCTL, '--bus', 'unix:path=/nonexistent/bus', 'logs']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('cannot connect to the bus');
  });

  test('-f prints new lines as they come, and carries on across a crtosd restart without repeating any', async () => {
    const follower = spawn(process.execPath, [CRTOSCTL, 'logs', '-f', '--json'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    follower.stdout.on('data', (b: Buffer) => (out += b.toString()));
    follower.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const sources = [dataOf(follower.stdout), dataOf(follower.stderr), eventsOf(follower, 'exit'), ...outputOf(d.child)];
    const printed = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
    const detail = () => `follower: ${out}\n${err}\ndaemon: ${d.output()}`;
    try {
      // The last 10 lines first.
      await until('the last 10 lines', () => printed().length === 10, { sources, timeoutMs: 10_000, detail });
      const restart = await run(process.execPath, [CRTOSCTL, 'restart', 'talker.loader'], { env: env() });
      expect(restart.code, restart.stderr).toBe(0);
      await until('the restart\'s lines', () => printed().some((l) => l.unit === 'talker.loader' && l.message === 'start: restart requested'), { sources, timeoutMs: 10_000, detail });

      // crtosd restarts (cells and loaders keep running); the follower waits for it, then goes on.
      const starting = () => printed().filter((l) => l.unit === undefined && l.message.startsWith('crtosd 0.1.0 starting')).length;
      const startedBefore = starting();
      d.child.kill('SIGTERM');
      await d.exited;
      await until('the follower to notice', () => err.includes('crtosd does not answer'), { sources, timeoutMs: 10_000, detail });
      d = startDaemon(f, ['--bus', bus.address]);
      sources.push(...outputOf(d.child));
      await until('the new crtosd\'s first line', () => starting() > startedBefore && err.includes('crtosd answers again'), { sources, timeoutMs: 20_000, detail });
      const lines = printed();
      const keys = lines.map((l) => JSON.stringify(l));
      expect(new Set(keys).size).toBe(keys.length);
      expect(lines.map((l) => l.time)).toEqual([...lines.map((l) => l.time)].sort((a, b) => a - b));
    } finally {
      follower.kill('SIGINT');
    }
    const code = await new Promise<number | null>((resolve) => (follower.exitCode !== null ? resolve(follower.exitCode) : follower.once('exit', (c) => resolve(c))));
    expect(code).toBe(0);
  });
});
