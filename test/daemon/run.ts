/** Running dist/crtosd.mjs against a fixture's simulated machine, and what wakes a wait on it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Fixture } from '../engine/harness.js';
import { changesOf, dataOf, eventsOf, until, type WakeSource } from '../helpers/wait-for.js';

export const CRTOSD = join(import.meta.dirname, '../../dist/crtosd.mjs');

export function daemonArgs(f: Fixture, extra: string[] = []): string[] {
  return [CRTOSD, '--units', f.unitsDir, '--root', f.machine.dir, '--state-dir', f.stateDir, '--poll-interval', '100', ...extra];
}

export function runOnce(f: Fixture, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, daemonArgs(f, ['--once', ...extra]), { env: { ...f.machine.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Daemon {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function startDaemon(f: Fixture, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Daemon {
  const child = spawn(process.execPath, daemonArgs(f, extra), { env: { ...f.machine.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** What a process writes and its exit. */
export function outputOf(child: ChildProcess): WakeSource[] {
  return [dataOf(child.stdout), dataOf(child.stderr), eventsOf(child, 'exit')];
}

/**
 * Every change of the simulated machine: its hidden state (.sim/state.json, rewritten by rename)
 * and its operation log (ops.log, appended to), and of the daemon's state directory.
 */
export function machineChanges(f: Fixture): WakeSource[] {
  return [changesOf(f.machine.dir), changesOf(join(f.machine.dir, '.sim')), changesOf(f.stateDir)];
}

/** A datagram socket standing in for systemd's $NOTIFY_SOCKET; `stop` ends its process. */
export async function notifyReceiver(dir: string): Promise<{ socket: string; messages: () => string; sources: WakeSource[]; stop: () => void }> {
  const socket = join(dir, 'notify.sock');
  const receiver = spawn('python3', ['-c', 'import socket,sys\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound", flush=True)\nwhile True:\n  print(s.recv(4096).decode().replace("\\n", " "), flush=True)', socket]);
  let messages = '';
  receiver.stdout.on('data', (d: Buffer) => (messages += d.toString()));
  const sources = outputOf(receiver);
  try {
    await until('the notify receiver to bind its socket', () => messages.includes('bound'), { sources, timeoutMs: 5000, detail: () => messages });
  } catch (e) {
    receiver.kill();
    throw e;
  }
  return { socket, messages: () => messages, sources, stop: () => void receiver.kill() };
}
