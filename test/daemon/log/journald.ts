/**
 * A private, real systemd-journald for tests, without systemd as PID 1.
 *
 * What works here (found by trying): journald runs standalone as root when started in its own
 * mount namespace (`unshare -m`, propagation private), with a tmpfs over /run (so the host's
 * /run/systemd/journal, if any, is neither used nor touched) and over /var/log/journal (so it keeps
 * no persistent journal of the host's), and two of the test's own directories bind-mounted where
 * journald works: its sockets' directory /run/systemd/journal and its volatile journal
 * /run/log/journal (journald writes there until told to flush to /var/log). Without socket
 * activation it binds its sockets itself; a socket file in a bind-mounted directory is reachable
 * from outside the namespace by the path the test sees, and journalctl --directory reads the
 * journal files (under a machine-id directory) from there. journald's namespace instances
 * (`systemd-journald NAMESPACE`) need PID 1's socket units, so they are not used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changesOf, dataOf, eventsOf, until } from '../../helpers/wait-for.js';
import { run } from '../../dbus/helpers/run.js';

export const JOURNALD = '/lib/systemd/systemd-journald';

export interface PrivateJournal {
  /** The native protocol's socket (what CRTOS_JOURNAL_SOCKET names). */
  socket: string;
  /** The journal files, for `journalctl --directory`. */
  directory: string;
  /** Entries matching journalctl's arguments (`CRTOS_UNIT=…`, `-p err`), as `-o json` gives them. */
  entries(...args: string[]): Promise<Record<string, string>[]>;
  stop(): Promise<void>;
}

export async function startJournald(): Promise<PrivateJournal> {
  const dir = mkdtempSync(join(tmpdir(), 'crtos-journald-'));
  const sockets = join(dir, 'sockets');
  const directory = join(dir, 'journal');
  mkdirSync(sockets);
  mkdirSync(directory);
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /run',
    'mkdir -p /run/systemd/journal /run/log/journal',
    `mount --bind '${sockets}' /run/systemd/journal`,
    `mount --bind '${directory}' /run/log/journal`,
    'if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi',
    `exec ${JOURNALD}`,
  ].join('\n');
  const child: ChildProcess = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const socket = join(sockets, 'socket');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until('systemd-journald to bind its native socket', () => {
    if (child.exitCode !== null) throw new Error(`systemd-journald exited ${child.exitCode}: ${output}`);
    return existsSync(socket);
  }, { sources: [changesOf(sockets), dataOf(child.stderr), eventsOf(child, 'exit')], timeoutMs: 10_000, detail: () => output });
  return {
    socket,
    directory,
    async entries(...args) {
      const r = await run('journalctl', ['--directory', directory, '--no-pager', '-o', 'json', ...args]);
      if (r.code !== 0 && !/No entries|-- No entries --/.test(r.stdout + r.stderr)) throw new Error(`journalctl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, string>);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
