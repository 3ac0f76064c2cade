/** Runs a command to completion and returns its output and exit code; never throws on exit != 0. */
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 15_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs as user/group `nobody` (65534) with the given supplementary groups. */
export function asNobody(cmd: string, args: string[], groups: number[] = []): [string, string[]] {
  return ['setpriv', ['--reuid=65534', '--regid=65534', groups.length ? `--groups=${groups.join(',')}` : '--clear-groups', cmd, ...args]];
}

/**
 * A copy of a directory (dist/) that `nobody` can read: a checkout in a private directory (/root,
 * mode 0700) cannot be read by another user, so what a test runs as `nobody` runs from here.
 */
export function readableCopy(dir: string): { path: string; cleanup(): void } {
  const base = mkdtempSync(join(tmpdir(), 'crtos-readable-'));
  const path = join(base, 'copy');
  cpSync(dir, path, { recursive: true });
  chmodSync(base, 0o755); // mkdtemp makes it 0700; the copy inside gets the umask's modes
  return { path, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}
