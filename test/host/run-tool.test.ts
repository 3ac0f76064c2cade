import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, runTool, runToolChecked } from '../../src/host/run-tool.js';

const dir = mkdtempSync(join(tmpdir(), 'crtos-run-tool-'));
writeFileSync(join(dir, 'fails'), '#!/bin/sh\necho "JAILHOUSE_CELL_START: Operation not permitted" >&2\nexit 1\n', { mode: 0o755 });
writeFileSync(join(dir, 'echoes'), '#!/bin/sh\nprintf "%s|" "$@"\n', { mode: 0o755 });
writeFileSync(join(dir, 'not-executable'), '#!/bin/sh\n', { mode: 0o644 });
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
    await expect(runTool(['sleep', '5'], { env, op: 'hang', timeoutMs: 100 })).rejects.toMatchObject({ code: 'HOST_TOOL_TIMEOUT', errno: 'ETIMEDOUT', signal: 'SIGKILL' });
  });

  it('names a missing tool', async () => {
    await expect(runTool(['jailhouse', 'enable'], { env: { PATH: dir }, op: 'enableJailhouse' })).rejects.toMatchObject({ code: 'HOST_TOOL_NOT_FOUND', message: 'enableJailhouse: `jailhouse` not found on PATH' });
  });
});
