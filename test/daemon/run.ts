/** Running dist/crtosd.mjs against a fixture's simulated machine. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Fixture } from '../engine/harness.js';

export const CRTOSD = join(import.meta.dirname, '../../dist/crtosd.mjs');

export function daemonArgs(f: Fixture, extra: string[] = []): string[] {
  return [CRTOSD, '--units', f.unitsDir, '--root', f.machine.dir, '--state-dir', f.stateDir, '--poll-interval', '100', ...extra];
}

export function runOnce(f: Fixture, extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, daemonArgs(f, ['--once', ...extra]), { env: f.machine.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export function startDaemon(f: Fixture, extra: string[] = [], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, daemonArgs(f, extra), { env: { ...f.machine.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export { until } from '../engine/harness.js';
