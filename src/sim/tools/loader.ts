/**
 * Stand-in cRTOS loader (`loader [VAR=value…] APP [ARG…]`): connects to the started cell's
 * endpoint, pings it, opens the shadow device, finds the application, then stays resident as the
 * system-call proxy until the cell stops (the connection closes) or it is signalled. Failures end
 * the way the C++ loader's do: an uncaught exception aborts (exit status 134).
 */
import { connect } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { strerror } from '../../host/errno.js';
import { readDescription } from '../store.js';
import { injected, logOperation, underMachine, type ToolContext } from './context.js';

function terminate(ctx: ToolContext, what: string, detail: Record<string, unknown>): number {
  ctx.err(`terminate called after throwing an instance of 'std::runtime_error'\n  what():  ${what}\n`);
  logOperation(ctx, { op: 'loader', args: ctx.args, result: 'abort', exitCode: 134, detail: { ...detail, what } });
  return 134;
}

function selfFacts(): Record<string, unknown> {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const cpus = /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1];
    return { pid: process.pid, cpusAllowed: cpus };
  } catch {
    return { pid: process.pid };
  }
}

export async function runLoader(ctx: ToolContext): Promise<number> {
  const positional = ctx.args.filter((a) => !a.includes('='));
  const app = positional[0];
  if (app === undefined) {
    ctx.err('Usage: loader <optional env> <elf file> ...\n');
    logOperation(ctx, { op: 'loader', args: ctx.args, result: 'usage', exitCode: 1 });
    return 1;
  }
  const d = readDescription(ctx.dir);
  const fallback = d.readiness[0];
  const endpoint = ctx.env.CRTOS_SIM_ENDPOINT ?? (fallback ? `${fallback.host}:${fallback.port}` : '127.0.0.1:42');
  const shadow = ctx.env.SHADOWPROC ?? '/dev/shadow-process0';
  const detail = { endpoint, shadow, app, ...selfFacts() };
  const { errno } = injected(ctx, 'loader', [app]);
  if (errno) return terminate(ctx, `Connection failed with ${strerror(errno)}`, detail);
  const [host, portText] = splitEndpoint(endpoint);
  if (!/^127\.|^localhost$|^::1$/.test(host)) {
    // Never leave the machine: the real endpoint (172.16.0.2) exists only on the ivshmem link.
    return terminate(ctx, `Connection failed with ${strerror('ENETDOWN')}`, detail);
  }
  const socket = connect({ host, port: Number(portText) });
  const connected = await new Promise<string | undefined>((resolve) => {
    socket.once('connect', () => resolve(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? strerror('ECONNREFUSED') : e.message));
  });
  if (connected !== undefined) return terminate(ctx, `Connection failed with ${connected}`, detail);
  socket.write('PING\n');
  if (!existsSync(underMachine(ctx.dir, shadow))) {
    ctx.err(`Error on opening shadow process: ${strerror('ENOENT')}\n`);
    socket.destroy();
    return terminate(ctx, 'Failed to open shadow process', detail);
  }
  if (app.startsWith('/') && !existsSync(underMachine(ctx.dir, app))) {
    // The loader's PATH search ends in exit(-127) without a message unless VERBOSE is set.
    socket.destroy();
    logOperation(ctx, { op: 'loader', args: ctx.args, result: 'ENOENT', exitCode: 129, detail });
    return 129;
  }
  logOperation(ctx, { op: 'loader', args: ctx.args, result: 'ok', detail: { ...detail, resident: true } });
  return new Promise<number>((resolve) => {
    socket.on('error', () => undefined);
    // Keep reading (PONG and whatever follows): a paused socket would never see the cell go away.
    socket.on('data', () => undefined);
    socket.on('close', () => {
      ctx.err('loader: connection to the sRTOS closed\n');
      logOperation(ctx, { op: 'loader', args: ctx.args, result: 'cell stopped', exitCode: 1, detail: { pid: process.pid } });
      resolve(1);
    });
  });
}

function splitEndpoint(endpoint: string): [string, string] {
  const i = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, i), endpoint.slice(i + 1)];
}
