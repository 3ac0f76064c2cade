import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { SimMachine } from '../../../src/sim/index.js';
import { paths } from '../../../src/sim/store.js';
import { tempMachine, untilMachine } from '../helpers.js';
import { every, until } from '../../helpers/wait-for.js';

/** The inmate hosts of the machine in `dir` (their PIDs). */
function hostsOf(dir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes('inmates') && argv.includes(dir)) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function run(m: SimMachine, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number | null> {
  return new Promise((done) => execFile(join(m.binDir, 'jailhouse'), args, { env: { ...m.env, ...env } }, (error) => done(error ? (typeof error.code === 'number' ? error.code : null) : 0)));
}

function open(endpoint: { host: string; port: number }): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(endpoint.port, endpoint.host, () => resolve(socket));
    socket.on('error', () => resolve(undefined));
  });
}

async function ping(endpoint: { host: string; port: number }): Promise<string | undefined> {
  const socket = await open(endpoint);
  if (!socket) return undefined;
  return new Promise((resolve) => {
    socket.once('data', (d) => {
      resolve(d.toString());
      socket.destroy();
    });
    socket.write('PING\n');
  });
}

/** The machine with nuttx running and its guest answering. */
async function running(): Promise<{ m: SimMachine; endpoint: { host: string; port: number } }> {
  const m = await tempMachine();
  await m.bringUp('running');
  const endpoint = m.readinessEndpoint('nuttx')!;
  await untilMachine(m, "the inmate host to serve nuttx's guest", () => m.inmate('nuttx') !== undefined);
  return { m, endpoint };
}

describe.concurrent('the inmate host', () => {
  it('serves every run from one process: a restart keeps the host, and the guest follows the new run', async () => {
    const { m, endpoint } = await running();
    const first = m.inmate('nuttx')!;
    expect(await ping(endpoint)).toBe('PONG\n');
    expect(await run(m, ['cell', 'start', 'nuttx'])).toBe(0);
    const token = (await m.state()).jailhouse.cells[0]!.runToken;
    expect(token).not.toBe(first.token);
    await untilMachine(m, "the new run's guest", () => m.inmate('nuttx')?.token === token);
    expect(await ping(endpoint)).toBe('PONG\n');
    expect({ pid: m.inmate('nuttx')!.pid, hosts: hostsOf(m.dir) }).toEqual({ pid: first.pid, hosts: [first.pid] });
  });

  it('has closed the guest when `cell shutdown` returns: its connections end, new ones are refused', async () => {
    const { m, endpoint } = await running();
    const socket = (await open(endpoint))!;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    expect(await run(m, ['cell', 'shutdown', 'nuttx'])).toBe(0);
    expect(await open(endpoint)).toBeUndefined();
    await closed;
    expect(m.inmate('nuttx')).toBeUndefined();
  });

  it('hangs a guest when asked: the cell stays running, its endpoint takes no connection; a cell without a guest cannot hang', async () => {
    const { m, endpoint } = await running();
    expect(m.hangCell('nuttx')).toBe(true);
    expect(await open(endpoint)).toBeUndefined();
    expect((await m.state()).jailhouse.cells[0]?.state).toBe('running');
    expect((await m.readLog()).filter((e) => e.op === 'cell hung').map((e) => e.args)).toEqual([['nuttx']]);
    expect(await run(m, ['cell', 'shutdown', 'nuttx'])).toBe(0);
    expect(m.hangCell('nuttx')).toBe(false);
  });

  it('leaves when it has served nothing for CRTOS_SIM_INMATES_IDLE_MS; the next start brings up another', async () => {
    const m = await tempMachine();
    await m.bringUp('loaded');
    expect(await run(m, ['cell', 'start', 'nuttx'], { CRTOS_SIM_INMATES_IDLE_MS: '100' })).toBe(0);
    await untilMachine(m, "nuttx's guest", () => m.inmate('nuttx') !== undefined);
    const [host] = hostsOf(m.dir);
    expect(await run(m, ['cell', 'shutdown', 'nuttx'])).toBe(0);
    await until('the idle host to leave', () => hostsOf(m.dir).length === 0, { sources: [every(20)], timeoutMs: 20_000 });
    expect(await run(m, ['cell', 'start', 'nuttx'])).toBe(0);
    await untilMachine(m, "nuttx's guest again", () => m.inmate('nuttx') !== undefined);
    expect(hostsOf(m.dir)).toEqual([m.inmate('nuttx')!.pid]);
    expect(m.inmate('nuttx')!.pid).not.toBe(host);
  });

  it('is replaced after it was killed: the PID file it left does not keep the next start from being served', async () => {
    const { m, endpoint } = await running();
    const killed = m.inmate('nuttx')!.pid;
    process.kill(killed, 'SIGKILL');
    await until('the host to be gone', () => !hostsOf(m.dir).includes(killed), { sources: [every(20)], timeoutMs: 20_000 });
    expect(readFileSync(paths.inmateHost(m.dir), 'utf8')).toBe(String(killed));
    expect(await run(m, ['cell', 'start', 'nuttx'])).toBe(0);
    const token = (await m.state()).jailhouse.cells[0]!.runToken;
    await untilMachine(m, 'a new host to serve the restarted cell', () => m.inmate('nuttx')?.token === token);
    expect(m.inmate('nuttx')!.pid).not.toBe(killed);
    expect(await ping(endpoint)).toBe('PONG\n');
  });

  it('fails a cell on schedule and closes its guest', async () => {
    const { m, endpoint } = await running();
    await m.setCellFailures([{ cell: 'nuttx', afterStartMs: 0, times: 1 }]);
    await untilMachine(m, 'the cell to fail', async () => (await m.state()).jailhouse.cells[0]?.state === 'failed');
    await untilMachine(m, 'its guest to be closed', () => m.inmate('nuttx') === undefined);
    expect(await open(endpoint)).toBeUndefined();
    expect((await m.readLog()).find((e) => e.op === 'cell failed')).toMatchObject({ args: ['nuttx'], detail: { scheduled: { cell: 'nuttx', afterStartMs: 0 } } });
  });

  it('ends with its machine: dispose stops it and every guest', async () => {
    const { m, endpoint } = await running();
    const host = m.inmate('nuttx')!.pid;
    await m.dispose();
    expect(hostsOf(m.dir)).not.toContain(host);
    expect(await open(endpoint)).toBeUndefined();
    // Harmless once gone.
    writeFileSync(paths.inmateHost(m.dir), String(host));
    await m.dispose();
  });
});
