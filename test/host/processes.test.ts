/**
 * Loader processes as real children of the real machine: detached in their own session,
 * identified by PID and start time, watched as children and, after their parent is gone, by polling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { createLinuxHost, type ProcessIdentity } from '../../src/host/index.js';
import { environHas } from '../../src/host/processes.js';
import { parseProcStat } from '../../src/host/parse.js';
import { waitFor } from '../sim/helpers.js';

const host = createLinuxHost({ exitPollMs: 50 });
let tmp: string;
const leftovers: ProcessIdentity[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'crtos-proc-'));
});

afterAll(async () => {
  for (const id of leftovers) await host.kill(id, 'SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

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
    await waitFor(async () => (await host.process(id))?.argv[0] === 'sleep');
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
    await waitFor(async () => (await host.process(id))?.argv[0] === 'sleep');
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
    await waitFor(zombie);
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
