/**
 * Stand-in `chrt`: records the policy and priority a loader asked for, then its wrapper script
 * execs the program unchanged. Containers and unprivileged users may refuse SCHED_FIFO, and the
 * simulator must run anywhere; what matters to tests is that the right policy was requested.
 * Accepted form: `chrt POLICY PRIORITY COMMAND [ARG…]` (the form the Linux host uses).
 */
import { strerror } from '../../host/errno.js';
import { injected, logOperation, type ToolContext } from './context.js';

const POLICIES: Record<string, string> = {
  '-f': 'fifo', '--fifo': 'fifo', '-r': 'rr', '--rr': 'rr', '-o': 'other', '--other': 'other',
  '-b': 'batch', '--batch': 'batch', '-i': 'idle', '--idle': 'idle',
};

export function runChrt(ctx: ToolContext): number {
  const [flag, priorityText, ...command] = ctx.args;
  const fail = (message: string, result = 'usage') => {
    ctx.err(`chrt: ${message}\n`);
    logOperation(ctx, { op: 'chrt', args: ctx.args, result, exitCode: 1 });
    return 1;
  };
  const policy = flag === undefined ? undefined : POLICIES[flag];
  if (policy === undefined || priorityText === undefined) return fail('the simulator supports only: chrt POLICY PRIORITY COMMAND [ARG...]');
  if (!/^\d+$/.test(priorityText)) return fail(`invalid priority argument: '${priorityText}'`);
  const priority = Number(priorityText);
  const realtime = policy === 'fifo' || policy === 'rr';
  if (realtime ? priority < 1 || priority > 99 : priority !== 0) {
    return fail(`unsupported priority value for the policy: ${priority} (see --max for valid range)`);
  }
  if (command.length === 0) return fail('too few arguments');
  // E.g. EPERM: what a real chrt reports where SCHED_FIFO is not allowed.
  const { errno } = injected(ctx, 'chrt', [policy, command[0] ?? '']);
  if (errno) return fail(`failed to set pid 0's policy: ${strerror(errno)}`, errno);
  logOperation(ctx, { op: 'chrt', args: ctx.args, result: 'ok', exitCode: 0, detail: { policy, priority, command, pid: process.ppid } });
  return 0;
}
