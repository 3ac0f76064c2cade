/**
 * Datagrams to journald's native socket. Node has no AF_UNIX datagram sockets, so one long-lived
 * helper sends them: perl, whose Socket module is in perl-base, which Debian marks Essential (it
 * is on every Debian system, so the package needs no dependency and no native addon: crtosd stays
 * one bundled file). Each datagram goes down a pipe as a 4-byte big-endian length and the bytes;
 * the helper sends each as one datagram and prints errno's text for one it could not send.
 *
 * Why not a native npm addon (unix-dgram, node-unix-socket): the package ships no node_modules,
 * only bundles, and a compiled .node file would make it architecture-specific. Why not
 * `logger --journald` or systemd-cat: the first sends one entry per process, the second writes the
 * stream protocol, which carries no fields. A record costs a pipe write (README, "Logs").
 *
 * The helper ignores SIGINT, SIGTERM and SIGHUP and runs in its own process group: a Ctrl-C or a
 * service stop signals crtosd alone, whose last lines still reach the journal; the helper ends at
 * the pipe's end, when crtosd has gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/** The native protocol's socket, under the real root (never under --root: the journal is the host's). */
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

const SENDER = String.raw`
use strict; use warnings; use Socket;
$SIG{$_} = 'IGNORE' for qw(INT TERM HUP PIPE);
my $to = pack_sockaddr_un($ARGV[0]);
socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\n";
binmode STDIN; $| = 1;
sub take { my ($n) = @_; my $b = ''; while (length($b) < $n) { my $r = sysread(STDIN, $b, $n - length($b), length($b)); return undef unless $r; } return $b; }
while (defined(my $h = take(4))) {
  my $d = take(unpack('N', $h)); last unless defined $d;
  send($s, $d, 0, $to) or print "$!\n";
}
`;

/** What is queued in the pipe beyond this is dropped (and counted): journald stalled, crtosd's memory stays bounded. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export interface DatagramSender {
  /** Queues one datagram; false when it was dropped (helper gone, queue full). */
  send(datagram: Buffer): boolean;
  /** Whether the helper still runs (a sink falls back to stderr when not). */
  readonly alive: boolean;
  close(): void;
}

/**
 * Starts the helper for `socketPath`. `trouble` hears, in words, each datagram the helper could
 * not send, what was dropped before the queue drained, and the helper's end.
 */
export function journalSender(socketPath: string, trouble: (message: string) => void, perl = 'perl'): DatagramSender {
  let alive = true;
  let closing = false;
  let dropped = 0;
  const child: ChildProcess = spawn(perl, ['-e', SENDER, socketPath], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  const stdin = child.stdin as Socket;
  const stdout = child.stdout as Socket;
  // Neither the helper nor its pipes keep crtosd running.
  child.unref();
  stdin.unref();
  stdout.unref();
  stdin.on('error', () => undefined); // its end is reported by 'exit'
  stdin.on('drain', () => {
    if (dropped === 0) return;
    trouble(`${dropped} log record(s) were dropped while journald did not keep up`);
    dropped = 0;
  });
  stdout.setEncoding('utf8');
  let partial = '';
  stdout.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line) trouble(`journald did not take a log record: ${line}`);
  });
  const gone = (why: string) => {
    if (!alive) return;
    alive = false;
    if (!closing) trouble(`the journal helper (${perl}) ${why}; logging to stderr instead`);
  };
  child.on('error', (e) => gone(`could not run: ${e.message}`));
  child.on('exit', (code, signal) => gone(`ended (${signal ?? `exit ${code}`})`));
  return {
    get alive() {
      return alive;
    },
    send(datagram) {
      if (!alive) return false;
      if (stdin.writableLength > MAX_QUEUED_BYTES) {
        dropped++;
        return false;
      }
      const head = Buffer.alloc(4);
      head.writeUInt32BE(datagram.length);
      stdin.write(Buffer.concat([head, datagram]));
      return true;
    },
    close() {
      closing = true;
      stdin.end();
    },
  };
}
