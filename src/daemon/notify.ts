/**
 * sd_notify without a native addon: Node cannot send on a unix
 * datagram socket, so each state string is handed to `systemd-notify` with our PID; the service
 * unit therefore sets NotifyAccess=all. Messages are sent in order, one helper at a time, and
 * only when $NOTIFY_SOCKET is set.
 */
import { spawn } from 'node:child_process';

export interface Notifier {
  /** KEY=VALUE pairs, e.g. {READY: '1', STATUS: '…'}. */
  send(fields: Record<string, string>): Promise<void>;
  readonly enabled: boolean;
}

export function createNotifier(env: NodeJS.ProcessEnv = process.env, command = 'systemd-notify'): Notifier {
  const socket = env.NOTIFY_SOCKET;
  let chain: Promise<void> = Promise.resolve();
  let lastStatus: string | undefined;
  return {
    enabled: Boolean(socket),
    send(fields) {
      if (!socket) return Promise.resolve();
      if (Object.keys(fields).length === 1 && fields.STATUS !== undefined) {
        if (fields.STATUS === lastStatus) return chain;
      }
      if (fields.STATUS !== undefined) lastStatus = fields.STATUS;
      const args = [`--pid=${process.pid}`, ...Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`)];
      chain = chain.then(
        () =>
          new Promise<void>((resolve) => {
            const child = spawn(command, args, { env: { ...env, NOTIFY_SOCKET: socket }, stdio: 'ignore' });
            child.once('error', () => resolve());
            child.once('exit', () => resolve());
          }),
      );
      return chain;
    },
  };
}
