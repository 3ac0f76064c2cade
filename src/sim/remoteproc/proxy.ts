/**
 * Stand-in Linux proxy of a remote firmware (`rpmsg-proxy [--ping] [--timeout MS] [TTY]`): opens
 * the rpmsg tty (TTY, else $RPMSG_TTY, else /dev/ttyRPMSG0), says `ping` and waits for `pong`.
 * Resident (default), it then stays until the tty hangs up (the channel went: the firmware stopped,
 * crashed into a recovery or was detached; exit 1) or it is signalled. With --ping it exits 0 on the
 * answer: an exec liveness check. No answer within the timeout (a hung firmware): exit 1.
 */
import { connect } from 'node:net';
import { strerror, type ErrnoName } from '../../host/errno.js';
import { appendLog } from '../store.js';
import { underMachine } from '../tools/context.js';

const DEFAULT_TTY = '/dev/ttyRPMSG0';
const DEFAULT_TIMEOUT_MS = 2000;

export interface ProxyIo {
  dir: string;
  env: NodeJS.ProcessEnv;
  err(text: string): void;
}

export async function runProxy(args: string[], io: ProxyIo): Promise<number> {
  const ping = args.includes('--ping');
  const t = args.indexOf('--timeout');
  const timeoutMs = t >= 0 ? Number(args[t + 1]) : DEFAULT_TIMEOUT_MS;
  const positional = args.filter((a, i) => !a.startsWith('--') && !(t >= 0 && i === t + 1));
  const tty = positional[0] ?? io.env.RPMSG_TTY ?? DEFAULT_TTY;
  const log = (result: string, exitCode: number, detail: Record<string, unknown> = {}) =>
    appendLog(io.dir, { op: 'rpmsg proxy', args, result, exitCode, detail: { tty, pid: process.pid, ...detail } });
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || positional.length > 1) {
    io.err('Usage: rpmsg-proxy [--ping] [--timeout MS] [TTY]\n');
    log('usage', 2);
    return 2;
  }
  const socket = connect(underMachine(io.dir, tty));
  const opened = await new Promise<ErrnoName | undefined>((resolve) => {
    socket.once('connect', () => resolve(undefined));
    // A socket file nobody serves any more is a device that is gone.
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'ENODEV' : ((e.code ?? 'EIO') as ErrnoName)));
  });
  if (opened) {
    io.err(`rpmsg-proxy: cannot open ${tty}: ${strerror(opened) ?? opened}\n`);
    log(opened, 1);
    return 1;
  }
  let received = '';
  const answered = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      if (received.split('\n').some((l) => l.trim() === 'pong')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  socket.write('ping\n');
  if (!(await answered)) {
    io.err(`rpmsg-proxy: no answer from the remote firmware on ${tty} within ${timeoutMs} ms\n`);
    socket.destroy();
    log('ETIMEDOUT', 1);
    return 1;
  }
  if (ping) {
    socket.end();
    log('ok', 0, { pong: true });
    return 0;
  }
  log('ok', 0, { pong: true, resident: true });
  return new Promise<number>((resolve) => {
    socket.on('error', () => undefined);
    socket.on('close', () => {
      io.err(`rpmsg-proxy: ${tty} hung up\n`);
      log('hangup', 1);
      resolve(1);
    });
  });
}
