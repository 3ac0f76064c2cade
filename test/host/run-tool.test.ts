import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, runTool, runToolChecked } from '../../src/host/run-tool.js';
import type { ToolRun } from '../../src/host/host.js';
import { changesOf, waitFor } from '../helpers/wait-for.js';
import { untilSeen } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'crtos-run-tool-'));
writeFileSync(join(dir, 'fails'), '#!/bin/sh\necho "JAILHOUSE_CELL_START: Operation not permitted" >&2\nexit 1\n', { mode: 0o755 });
writeFileSync(join(dir, 'echoes'), '#!/bin/sh\nprintf "%s|" "$@"\n', { mode: 0o755 });
writeFileSync(join(dir, 'not-executable'), '#!/bin/sh\n', { mode: 0o644 });
// Forks a child that writes its PID to $1, then waits for it: a tool with a process group.
writeFileSync(join(dir, 'forks'), '#!/bin/sh\nsleep 30 &\necho $! > "$1"\nwait\n', { mode: 0o755 });
// Ignores SIGTERM (its child inherits that), as a tool in an uninterruptible wait seems to.
writeFileSync(join(dir, 'stubborn'), '#!/bin/sh\ntrap "" TERM\nsleep 30 &\necho $! > "$1"\nwait\n', { mode: 0o755 });
writeFileSync(join(dir, 'touches'), '#!/bin/sh\ntouch "$1"\n', { mode: 0o755 });

function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves with the PID a tool wrote to `file`, once it is there. */
function pidIn(file: string): Promise<number> {
  return waitFor(`a PID in ${file}`, () => {
    const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    return text === '' ? undefined : Number(text);
  }, { sources: [changesOf(file)], timeoutMs: 4000 });
}
const env = { PATH: `${dir}:/usr/bin:/bin` };

describe('running tools', () => {
  it('finds executables on PATH, first match wins, skips non-executables', () => {
    expect(findOnPath('fails', env)).toBe(join(dir, 'fails'));
    expect(findOnPath('not-executable', env)).toBeUndefined();
    expect(findOnPath('no-such-tool', env)).toBeUndefined();
    expect(findOnPath(join(dir, 'echoes'), {})).toBe(join(dir, 'echoes'));
  });

  it('passes argv unchanged, with no shell in between', async () => {
    const r = await runTool(['echoes', 'a b', '$HOME', ';rm -rf /'], { env, op: 'test' });
    expect(r).toEqual({ exitCode: 0, signal: null, stdout: 'a b|$HOME|;rm -rf /|', stderr: '' });
  });

  it('turns a failure into a HostError naming op, errno, exit code, stderr and argv', async () => {
    await expect(runToolChecked(['fails', 'x'], { env, op: 'startCell' })).rejects.toMatchObject({
      code: 'HOST_TOOL_FAILED',
      op: 'startCell',
      errno: 'EPERM',
      exitCode: 1,
      stderr: 'JAILHOUSE_CELL_START: Operation not permitted\n',
      argv: ['fails', 'x'],
      message: 'startCell: `fails x` failed (exit 1): JAILHOUSE_CELL_START: Operation not permitted',
    });
  });

  it('kills a tool that overruns its time limit', async () => {
    await expect(runTool(['sleep', '5'], { env, op: 'hang', timeoutMs: 100 })).rejects.toMatchObject({ code: 'HOST_TOOL_TIMEOUT', errno: 'ETIMEDOUT', signal: 'SIGTERM' });
  });

  it('kills the tool with its whole process group when its caller gives up, and reports the run', async () => {
    const runs: string[] = [];
    let run: ToolRun | undefined;
    const abort = new AbortController();
    const file = join(dir, `child-${process.pid}-1`);
    const p = runTool(['forks', file], {
      env,
      op: 'createCell',
      signal: abort.signal,
      runs: {
        started: (r) => {
          run = r;
          runs.push(`started ${r.pid}`);
        },
        ended: (r) => runs.push(`ended ${r.pid}`),
      },
    });
    const child = await pidIn(file);
    expect(run).toMatchObject({ op: 'createCell', argv: ['forks', file] });
    const stat = readFileSync(`/proc/${run!.pid}/stat`, 'utf8');
    expect(run!.startTime).toBe(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]));
    abort.abort();
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ code: 'HOST_TOOL_TIMEOUT', errno: 'ETIMEDOUT', signal: 'SIGTERM' });
    expect((e as Error).message).toBe(`createCell: \`forks ${file}\` was killed with its process group (pid ${run!.pid}): its caller's deadline passed`);
    // The tool is gone when the run settles; what it forked goes with its group.
    expect(alive(run!.pid)).toBe(false);
    await untilSeen(`the forked child (pid ${child}) to be gone`, () => !alive(child), 2000); // signalled with the group; it may take a moment to go
    expect(runs).toEqual([`started ${run!.pid}`, `ended ${run!.pid}`]);
  });

  it('sends SIGKILL to the group after the grace when SIGTERM is ignored', async () => {
    const abort = new AbortController();
    const file = join(dir, `child-${process.pid}-2`);
    const p = runTool(['stubborn', file], { env, op: 'hang', signal: abort.signal, killGraceMs: 200 });
    const child = await pidIn(file);
    const t = Date.now();
    abort.abort();
    await expect(p).rejects.toMatchObject({ code: 'HOST_TOOL_TIMEOUT', signal: 'SIGKILL' });
    expect(Date.now() - t).toBeGreaterThanOrEqual(190);
    // The run settles when the tool itself is gone; its child, SIGKILLed with the group at the
    // same moment, dies a moment later on a busy machine.
    await untilSeen(`the forked child (pid ${child}) to be gone`, () => !alive(child), 2000);
  });

  it('does not start a tool whose caller gave up before', async () => {
    const file = join(dir, `touched-${process.pid}`);
    await expect(runTool(['touches', file], { env, op: 'startCell', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'HOST_TOOL_TIMEOUT' });
    expect(existsSync(file)).toBe(false);
  });

  it('names a missing tool', async () => {
    await expect(runTool(['jailhouse', 'enable'], { env: { PATH: dir }, op: 'enableJailhouse' })).rejects.toMatchObject({ code: 'HOST_TOOL_NOT_FOUND', message: 'enableJailhouse: `jailhouse` not found on PATH' });
  });
});
