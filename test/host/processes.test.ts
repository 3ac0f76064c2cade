/**
 * Loader processes as real children of the real machine: detached in their own session and
 * process group, identified by PID and start time, watched as children and, after their parent is
 * gone, by polling; stopped with their whole group; started with a working directory, user, group
 * and resource limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { createLinuxHost, type ProcessIdentity } from '../../src/host/index.js';
import { environHas, execReached, groupMembers } from '../../src/host/processes.js';
import { parseProcStat } from '../../src/host/parse.js';
import { untilSeen } from './helpers.js';

const host = createLinuxHost({ exitPollMs: 50 });
let tmp: string;
const leftovers: ProcessIdentity[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'crtos-proc-'));
});

afterAll(async () => {
  for (const id of leftovers) await host.killGroup(id, 'SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** Live processes whose process group or session is `pid`'s, read from /proc independently of the host. */
function groupOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const st = parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if ((st.pgid === pid || st.sid === pid) && st.state !== 'Z') out.push(st.pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The lines of /proc/PID/limits by their name, as [soft, hard]. */
function limitsOf(pid: number): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const line of readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').slice(1)) {
    const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (m) out[m[1]!] = [m[2]!, m[3]!];
  }
  return out;
}

function statusField(pid: number, field: string): string {
  return new RegExp(`^${field}:[ \\t]*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim() ?? '';
}

function sessionOf(pid: number): number {
  // Field 6 of /proc/PID/stat; after the ")" field 3 is index 0.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/)[3]);
}

describe('LinuxHost processes', () => {
  it('starts a process in its own session and finds it by PID and start time only', async () => {
    const id = await host.spawn({ argv: ['sleep', '30'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    leftovers.push(id);
    expect(sessionOf(id.pid)).toBe(id.pid);
    const info = await host.process(id);
    expect(info).toMatchObject({ pid: id.pid, startTime: id.startTime, argv: ['sleep', '30'] });
    expect(['S', 'R']).toContain(info?.state);
    // Same PID, other start time: a reused PID is not ours.
    expect(await host.process({ pid: id.pid, startTime: id.startTime + 1 })).toBeUndefined();
    expect(await host.kill({ pid: id.pid, startTime: id.startTime + 1 }, 'SIGTERM')).toBe(false);
    expect(await host.kill(id, 'SIGTERM')).toBe(true);
    expect(await host.waitExit(id)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await host.process(id)).toBeUndefined();
  });

  it('reports exit codes, passes only the given environment, appends output to the log file', async () => {
    const logFile = join(tmp, 'loader.log');
    const id = await host.spawn({
      argv: ['/bin/sh', '-c', 'echo "out $GREETING"; echo "env: $(env | grep -c .)" ; echo err >&2; exit 3'],
      env: { GREETING: 'hello' },
      logFile,
    });
    expect(await host.waitExit(id)).toEqual({ code: 3, signal: null });
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('out hello');
    expect(log).toContain('err');
    // sh adds PWD, SHLVL and _ itself; nothing of the parent's environment leaks in.
    expect(Number(/env: (\d+)/.exec(log)?.[1])).toBeLessThanOrEqual(4);
  });

  it('applies CPU affinity with taskset and scheduling with chrt', async () => {
    const id = await host.spawn({ argv: ['sleep', '30'], env: {}, cpus: [0], scheduling: { policy: 'other', priority: 0 } });
    leftovers.push(id);
    // The program is what runs under the PID, once chrt and taskset have exec'd into it.
    await untilSeen('sleep to run under the PID', async () => (await host.process(id))?.argv[0] === 'sleep');
    expect((await host.process(id))?.argv).toEqual(['sleep', '30']);
    const status = readFileSync(`/proc/${id.pid}/status`, 'utf8');
    expect(/Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1]).toBe('0');
    await host.kill(id, 'SIGKILL');
  });

  it('runs a loader under SCHED_FIFO with its priority, where the machine allows it', async () => {
    try {
      execFileSync('chrt', ['-f', '1', 'true'], { stdio: 'ignore' });
    } catch {
      // Unprivileged users and containers without CAP_SYS_NICE may not use SCHED_FIFO.
      console.warn('SCHED_FIFO test NOT RUN: chrt -f is refused on this machine');
      return;
    }
    const id = await host.spawn({ argv: ['sleep', '30'], env: {}, scheduling: { policy: 'fifo', priority: 42 } });
    leftovers.push(id);
    await untilSeen('sleep to run under the PID', async () => (await host.process(id))?.argv[0] === 'sleep');
    const stat = readFileSync(`/proc/${id.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
    // Fields 40 (rt_priority) and 41 (policy; SCHED_FIFO = 1), counted from field 3 at index 0.
    expect([Number(fields[40 - 3]), Number(fields[41 - 3])]).toEqual([42, 1]);
    await host.kill(id, 'SIGKILL');
  });

  it('a program that cannot be started is a HOST_SPAWN_FAILED error', async () => {
    await expect(host.spawn({ argv: ['/nonexistent/loader'], env: {} })).rejects.toMatchObject({ code: 'HOST_SPAWN_FAILED' });
  });

  it('re-finds a detached process after the process that started it is gone', async () => {
    // A separate node process (bundled from our source) starts the loader, prints its identity and exits.
    const helper = join(tmp, 'spawner.mjs');
    const hostIndex = fileURLToPath(new URL('../../src/host/index.ts', import.meta.url));
    await build({
      stdin: {
        contents: `import { createLinuxHost } from ${JSON.stringify(hostIndex)};
          const id = await createLinuxHost().spawn({ argv: ['sleep', '30'], env: { PATH: process.env.PATH } });
          process.stdout.write(JSON.stringify(id));`,
        resolveDir: tmp,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: helper,
      logLevel: 'silent',
    });
    const id = JSON.parse(execFileSync(process.execPath, [helper], { encoding: 'utf8' })) as ProcessIdentity;
    leftovers.push(id);
    const fresh = createLinuxHost({ exitPollMs: 50 });
    const info = await fresh.process(id);
    expect(info?.argv).toEqual(['sleep', '30']);
    // Its parent is gone: it was re-parented, not killed.
    const stat = readFileSync(`/proc/${id.pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/)[1]);
    expect(ppid).not.toBe(process.pid);
    expect(parseProcStat(stat).startTime).toBe(id.startTime);
    const exited = fresh.waitExit(id);
    expect(await fresh.kill(id, 'SIGTERM')).toBe(true);
    // Not our child: the status is unknown, but the exit is seen.
    expect(await exited).toEqual({ code: null, signal: null });
  });
});

describe('LinuxHost.findProcessByEnv', () => {
  const PATH = process.env.PATH ?? '/usr/bin:/bin';
  const marker = () => randomBytes(16).toString('hex');

  it('finds a live process by one exact environment entry, not by a prefix of its value', async () => {
    const value = marker();
    const id = await host.spawn({ argv: ['sleep', '30'], env: { PATH, CRTOS_TEST_MARK: value } });
    leftovers.push(id);
    expect(await host.findProcessByEnv('CRTOS_TEST_MARK', value)).toMatchObject({ pid: id.pid, startTime: id.startTime, argv: ['sleep', '30'] });
    expect(await host.findProcessByEnv('CRTOS_TEST_MARK', value.slice(0, -1))).toBeUndefined();
    expect(await host.findProcessByEnv('CRTOS_TEST_MAR', value)).toBeUndefined();
    await host.kill(id, 'SIGKILL');
    await host.waitExit(id);
    // Exited: no longer found.
    expect(await host.findProcessByEnv('CRTOS_TEST_MARK', value)).toBeUndefined();
  });

  it('does not return a zombie that carried the entry', async () => {
    const value = marker();
    // The background child exits at once; its parent (sleep, exec'd from sh) never reaps it.
    const id = await host.spawn({ argv: ['/bin/sh', '-c', `CRTOS_TEST_MARK=${value} sleep 0 & exec sleep 30`], env: { PATH } });
    leftovers.push(id);
    const zombie = async () => {
      const children = readFileSync(`/proc/${id.pid}/task/${id.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      return children.some((c) => parseProcStat(readFileSync(`/proc/${c}/stat`, 'utf8')).state === 'Z');
    };
    await untilSeen('the background child to be a zombie', zombie);
    expect(await host.findProcessByEnv('CRTOS_TEST_MARK', value)).toBeUndefined();
    await host.kill(id, 'SIGKILL');
  });

  it('matches whole NUL-separated entries only', () => {
    const env = Buffer.from('A=1\0XINVOCATION_ID=ab\0INVOCATION_ID=abc\0');
    expect(environHas(env, Buffer.from('INVOCATION_ID=abc'))).toBe(true);
    expect(environHas(env, Buffer.from('INVOCATION_ID=ab'))).toBe(false);
    expect(environHas(env, Buffer.from('A=1'))).toBe(true);
    expect(environHas(Buffer.from('A=12'), Buffer.from('A=1'))).toBe(false);
  });
});

describe('LinuxHost process groups', () => {
  const PATH = process.env.PATH ?? '/usr/bin:/bin';

  it('signals the whole group: a wrapper script and the children it started', async () => {
    const id = await host.spawn({ argv: ['/bin/sh', '-c', 'sleep 300 & sleep 300 & wait'], env: { PATH } });
    leftovers.push(id);
    await untilSeen('three processes in the group', () => groupOf(id.pid).length === 3);
    expect(await host.killGroup(id, 'SIGTERM')).toBe(3);
    await host.waitGroupGone(id);
    expect(groupOf(id.pid)).toEqual([]);
    expect(await host.waitExit(id)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await host.killGroup(id, 'SIGTERM')).toBe(0);
  });

  it('finds and kills the children once the main process has exited', async () => {
    const id = await host.spawn({ argv: ['/bin/sh', '-c', 'sleep 300 & exit 0'], env: { PATH } });
    leftovers.push(id);
    expect(await host.waitExit(id)).toEqual({ code: 0, signal: null });
    await untilSeen('one process left in the group', () => groupOf(id.pid).length === 1);
    expect(groupMembers(id).map((m) => m.pid)).toEqual(groupOf(id.pid));
    expect(await host.killGroup(id, 'SIGKILL')).toBe(1);
    await host.waitGroupGone(id);
    expect(groupOf(id.pid)).toEqual([]);
  });

  it('reaches a child that moved to a process group of its own inside the session', async () => {
    // setsid(2) would leave the session too (only a cgroup would hold that one); setpgid(2), as a
    // job-control shell does for a job, leaves only the group. perl-base is essential on Debian.
    const id = await host.spawn({ argv: ['/bin/sh', '-c', `perl -e 'setpgrp(0, 0); exec "sleep", "300"' & wait`], env: { PATH } });
    leftovers.push(id);
    const inOwnGroup = (): number | undefined =>
      groupOf(id.pid).find((p) => {
        try {
          return p !== id.pid && parseProcStat(readFileSync(`/proc/${p}/stat`, 'utf8')).pgid === p && readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sleep');
        } catch {
          return false;
        }
      });
    await untilSeen('a process in a group of its own', () => inOwnGroup() !== undefined);
    expect(await host.killGroup(id, 'SIGTERM')).toBe(2);
    await host.waitGroupGone(id);
    expect(groupOf(id.pid)).toEqual([]);
  });

  it('leaves a group alone whose leader PID was reused by a process of another start time', () => {
    // A /proc of three processes: PID 100 now belongs to a process started after ours (1000).
    const proc = join(tmp, 'fake-proc');
    const stat = (pid: number, pgid: number, start: number) => `${pid} (x) S 1 ${pgid} ${pgid} ${Array.from({ length: 15 }, () => '0').join(' ')} ${start} 0 0\n`;
    for (const [pid, pgid, start] of [[100, 100, 5000], [101, 100, 5001], [200, 200, 10]] as const) {
      mkdirSync(join(proc, String(pid)), { recursive: true });
      writeFileSync(join(proc, String(pid), 'stat'), stat(pid, pgid, start));
    }
    expect(groupMembers({ pid: 100, startTime: 5000 }, proc).map((m) => m.pid)).toEqual([100, 101]);
    expect(groupMembers({ pid: 100, startTime: 1000 }, proc)).toEqual([]);
    // Leader gone, its child still in the group: the number cannot have been reused.
    rmSync(join(proc, '100'), { recursive: true });
    expect(groupMembers({ pid: 100, startTime: 1000 }, proc).map((m) => m.pid)).toEqual([101]);
  });

  it('finds the loader, not a child that inherited its INVOCATION_ID', async () => {
    const value = randomBytes(16).toString('hex');
    const id = await host.spawn({ argv: ['/bin/sh', '-c', 'sleep 300 & sleep 300 & wait'], env: { PATH, CRTOS_TEST_MARK: value } });
    leftovers.push(id);
    await untilSeen('three processes in the group', () => groupOf(id.pid).length === 3);
    expect(await host.findProcessByEnv('CRTOS_TEST_MARK', value)).toMatchObject({ pid: id.pid, startTime: id.startTime });
    await host.killGroup(id, 'SIGKILL');
  });
});

describe('LinuxHost loader settings', () => {
  const PATH = process.env.PATH ?? '/usr/bin:/bin';

  it('starts in / unless told otherwise, resolved under the root', async () => {
    const id = await host.spawn({ argv: ['sleep', '300'], env: { PATH } });
    leftovers.push(id);
    expect(readlinkSync(`/proc/${id.pid}/cwd`)).toBe('/');
    await host.killGroup(id, 'SIGKILL');
    // A machine directory as root: `/` is that directory, as for the program's path.
    const machine = join(tmp, 'machine');
    mkdirSync(join(machine, 'srv'), { recursive: true });
    const rooted = createLinuxHost({ root: machine });
    const a = await rooted.spawn({ argv: ['sleep', '300'], env: { PATH } });
    const b = await rooted.spawn({ argv: ['sleep', '300'], env: { PATH }, cwd: '/srv' });
    leftovers.push(a, b);
    expect([readlinkSync(`/proc/${a.pid}/cwd`), readlinkSync(`/proc/${b.pid}/cwd`)]).toEqual([machine, join(machine, 'srv')]);
    await rooted.killGroup(a, 'SIGKILL');
    await rooted.killGroup(b, 'SIGKILL');
  });

  it('applies resource limits as soft and hard limit, infinity included', async () => {
    // Raising a hard limit takes CAP_SYS_RESOURCE, which a container's root may lack: without it,
    // values no higher than the hard limits this process has.
    const canRaise = (BigInt(`0x${statusField(process.pid, 'CapEff')}`) >> 24n) & 1n;
    const rtprioHard = limitsOf(process.pid)['Max realtime priority']![1];
    const rtprio = canRaise || rtprioHard === 'unlimited' ? 7n : BigInt(Math.min(7, Number(rtprioHard)));
    const memlock = canRaise ? 'infinity' : 65536n;
    const id = await host.spawn({ argv: ['sleep', '300'], env: { PATH }, limits: { memlock, rtprio, nofile: 4096n, core: 'infinity' } });
    leftovers.push(id);
    await untilSeen('sleep to run under the PID', async () => (await host.process(id))?.argv[0] === 'sleep');
    const limits = limitsOf(id.pid);
    const locked = memlock === 'infinity' ? 'unlimited' : String(memlock);
    expect(limits['Max locked memory']).toEqual([locked, locked]);
    expect(limits['Max realtime priority']).toEqual([String(rtprio), String(rtprio)]);
    expect(limits['Max open files']).toEqual(['4096', '4096']);
    expect(limits['Max core file size']).toEqual(['unlimited', 'unlimited']);
    await host.killGroup(id, 'SIGKILL');
  });

  it('runs as a user with its groups, or as numeric ids without a passwd entry', async () => {
    const named = await host.spawn({ argv: ['sleep', '300'], env: { PATH }, user: 'nobody' });
    leftovers.push(named);
    await untilSeen('sleep to run under the PID', async () => (await host.process(named))?.argv[0] === 'sleep');
    const nobody = execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim();
    const nogroup = execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim();
    expect(statusField(named.pid, 'Uid').split(/\s+/)).toEqual([nobody, nobody, nobody, nobody]);
    expect(statusField(named.pid, 'Gid').split(/\s+/)).toEqual([nogroup, nogroup, nogroup, nogroup]);
    expect(statusField(named.pid, 'Groups').split(/\s+/)).toEqual(execFileSync('id', ['-G', 'nobody'], { encoding: 'utf8' }).trim().split(/\s+/));
    await host.killGroup(named, 'SIGKILL');

    const numeric = await host.spawn({ argv: ['sleep', '300'], env: { PATH }, user: '4242420', group: '4242421' });
    leftovers.push(numeric);
    await untilSeen('sleep to run under the PID', async () => (await host.process(numeric))?.argv[0] === 'sleep');
    expect(statusField(numeric.pid, 'Uid').split(/\s+/)[0]).toBe('4242420');
    expect(statusField(numeric.pid, 'Gid').split(/\s+/)[0]).toBe('4242421');
    expect(statusField(numeric.pid, 'Groups')).toBe('');
    await host.killGroup(numeric, 'SIGKILL');

    // A group alone: still root, with that group.
    const grouped = await host.spawn({ argv: ['sleep', '300'], env: { PATH }, group: nogroup });
    leftovers.push(grouped);
    await untilSeen('sleep to run under the PID', async () => (await host.process(grouped))?.argv[0] === 'sleep');
    expect([statusField(grouped.pid, 'Uid').split(/\s+/)[0], statusField(grouped.pid, 'Gid').split(/\s+/)[0]]).toEqual(['0', nogroup]);
    await host.killGroup(grouped, 'SIGKILL');
  });

  it('refuses a user it cannot resolve before starting anything', async () => {
    await expect(host.spawn({ argv: ['sleep', '300'], env: { PATH }, user: 'no-such-user-crtos' })).rejects.toMatchObject({ code: 'HOST_SPAWN_FAILED', message: expect.stringContaining('no user named') });
    await expect(host.spawn({ argv: ['sleep', '300'], env: { PATH }, user: '4242420' })).rejects.toMatchObject({ code: 'HOST_SPAWN_FAILED', hint: 'give `group` too' });
  });
});

describe('execReached', () => {
  const wrappers = ['/usr/bin/prlimit', '/usr/bin/chrt', '/usr/bin/setpriv', '/m/bin/chrt'];
  it('is false while a wrapper runs, native or a script, and true once the program (or what it exec\'d) runs', () => {
    expect(execReached(['/usr/bin/prlimit', '--memlock=1:1', '--', '/usr/bin/chrt', '-f', '80', '/opt/loader', 'app'], wrappers)).toBe(false);
    expect(execReached(['/usr/bin/chrt', '-f', '80', '/opt/loader', 'app'], wrappers)).toBe(false);
    expect(execReached(['/bin/sh', '/m/bin/chrt', '-f', '80', '/m/opt/loader', 'app'], wrappers)).toBe(false);
    expect(execReached(['/opt/loader', 'app'], wrappers)).toBe(true);
    expect(execReached(['/bin/sh', '/m/opt/loader', 'app'], wrappers)).toBe(true);
    expect(execReached(['node', 'bundle.mjs', 'loader', 'app'], wrappers)).toBe(true);
  });
  it('is false for an empty command line (between fork and exec, or gone)', () => {
    expect(execReached([], wrappers)).toBe(false);
  });
});
