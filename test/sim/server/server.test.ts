/**
 * The machine's tool server behind the stand-in client: concurrent requests, a killed client,
 * and its own end (idle, or the machine directory gone). Needs the built client (npm run build).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempMachine, untilMachine } from '../helpers.js';
import { every, until, waitFor } from '../../helpers/wait-for.js';
import type { SimMachine } from '../../../src/sim/index.js';

// Whatever the environment asks, the machines this file creates use the client.
delete process.env.CRTOS_SIM_CLIENT;

/** The PID of the tool server serving the machine in `dir`, if one runs. */
function serverOf(dir: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes('serve') && argv.includes(dir)) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

function runWith(m: SimMachine, env: NodeJS.ProcessEnv, tool: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(join(m.binDir, tool), args, { env: { ...m.env, ...env } }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

describe.concurrent('stand-in tool server', () => {
  it('is what the wrappers run: the first invocation starts one server for the machine', async () => {
    const m = await tempMachine();
    expect(readFileSync(join(m.binDir, 'jailhouse'), 'utf8')).toContain('crtos-sim-client');
    expect(serverOf(m.dir)).toBeUndefined();
    expect((await m.run('modprobe', ['jailhouse'])).code).toBe(0);
    const server = serverOf(m.dir);
    expect(server).toBeDefined();
    expect((await m.run('jailhouse', ['cell', 'list'])).code).toBe(0);
    expect(serverOf(m.dir)).toBe(server);
    // Not one of the machine's tools: whoever finds those by CRTOS_SIM_DIR finds the clients only.
    expect(readFileSync(`/proc/${server}/environ`, 'utf8').split('\0').filter((v) => v.startsWith('CRTOS_SIM_DIR='))).toEqual([]);
  });

  it("passes crtosd's run token of a tool on to nothing that outlives the tool: neither the server it starts nor the inmate host its `cell start` starts", async () => {
    const m = await tempMachine();
    // A restarted crtosd looks for an interrupted tool by this token: the server and the inmate host
    // (session leaders, as a tool is) must not be taken for it, awaited and killed.
    const token = (tool: string) => ({ CRTOS_TOOL_RUN: `token-of-${tool}` });
    expect((await runWith(m, token('modprobe'), 'modprobe', ['jailhouse'])).code).toBe(0);
    expect((await runWith(m, token('enable'), 'jailhouse', ['enable', '/etc/jailhouse/sysconfig.cell'])).code).toBe(0);
    await m.bringUp('loaded');
    expect((await runWith(m, token('start'), 'jailhouse', ['cell', 'start', '--name', 'nuttx'])).code).toBe(0);
    await untilMachine(m, "the inmate host to serve the cell's guest", () => m.inmate('nuttx') !== undefined);
    const inmates = m.inmate('nuttx')!.pid;
    const tokens = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((v) => v.startsWith('CRTOS_TOOL_RUN='));
    expect({ server: tokens(serverOf(m.dir)!), inmates: tokens(inmates) }).toEqual({ server: [], inmates: [] });
  });

  it('runs requests concurrently: an `ip` call is answered while another one still runs', async () => {
    const m = await tempMachine();
    await m.bringUp('network');
    // The first call runs until it is killed, so the second overlaps it whatever the machine's
    // load (two 400 ms calls did not overlap when the second client took longer to start).
    await m.setFaults([{ op: 'ip link show', hang: true, times: 1 }]);
    const first = spawn(join(m.binDir, 'ip'), ['link', 'show'], { env: m.env, detached: true, stdio: 'ignore' });
    const exited = new Promise((done) => first.once('exit', (code, signal) => done(signal)));
    await untilMachine(m, 'the first `ip link show` to run', async () => (await m.readLog()).some((e) => e.op === 'ip link show' && e.result === 'hang'));
    expect(await m.run('ip', ['link', 'show'])).toMatchObject({ code: 0 });
    expect({ exitCode: first.exitCode, signalCode: first.signalCode }, 'the first call still runs').toEqual({ exitCode: null, signalCode: null });
    process.kill(-first.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect((await m.readLog()).filter((e) => e.op === 'ip link show').map((e) => e.result)).toEqual(['hang', 'ok']);
  });

  it('a hung request hangs only itself; killing its client frees the driver lock for the next ioctl', async () => {
    const m = await tempMachine();
    await m.bringUp('enabled');
    await m.setFaults([{ op: 'jailhouse cell create', hang: true, times: 1 }]);
    const child = spawn(join(m.binDir, 'jailhouse'), ['cell', 'create', '/etc/jailhouse/nuttx.cell'], { env: m.env, detached: true, stdio: 'ignore' });
    await untilMachine(m, 'cell create to hang', async () => (await m.readLog()).some((e) => e.result === 'hang'));
    const hung = (await m.readLog()).find((e) => e.result === 'hang');
    // The hang is logged under the client's PID: the process crtosd would kill.
    expect(hung?.detail?.pid).toBe(child.pid);
    expect(await m.run('ip', ['link', 'show'])).toMatchObject({ code: 0 });
    const exited = new Promise((done) => child.once('exit', (code, signal) => done(signal)));
    process.kill(-child.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await m.run('jailhouse', ['cell', 'create', '/etc/jailhouse/nuttx.cell'])).toMatchObject({ code: 0 });
    expect((await m.state()).jailhouse.cells.map((c) => c.name)).toEqual(['nuttx']);
  });

  it('exits when idle for CRTOS_SIM_SERVER_IDLE_MS', async () => {
    const m = await tempMachine();
    // A request that runs until its client is killed: the server cannot go idle before the test
    // has found it (a 500 ms request was over before a busy machine's test looked).
    await m.setFaults([{ op: 'jailhouse cell list', hang: true, times: 1 }]);
    const listing = spawn(join(m.binDir, 'jailhouse'), ['cell', 'list'], { env: { ...m.env, CRTOS_SIM_SERVER_IDLE_MS: '200' }, detached: true, stdio: 'ignore' });
    const exited = new Promise((done) => listing.once('exit', (code, signal) => done(signal)));
    const server = await waitFor('the tool server', () => serverOf(m.dir), { sources: [every(20)], timeoutMs: 20_000 });
    await untilMachine(m, 'the listing to run', async () => (await m.readLog()).some((e) => e.op === 'jailhouse cell list' && e.result === 'hang'));
    expect(alive(server), 'the server runs while it serves a request').toBe(true);
    process.kill(-listing.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await until('the idle server to exit', () => !alive(server), { sources: [every(20)], timeoutMs: 20_000 });
    // The next invocation starts a new one.
    expect((await m.run('jailhouse', ['cell', 'list'])).code).toBe(0);
    expect(serverOf(m.dir)).not.toBe(server);
  });

  it('exits when the machine directory disappears', async () => {
    const m = await tempMachine();
    expect((await m.run('jailhouse', ['cell', 'list'])).code).toBe(0);
    const server = serverOf(m.dir)!;
    rmSync(m.dir, { recursive: true, force: true });
    await until('the server of a removed machine to exit', () => !alive(server), { sources: [every(20)], timeoutMs: 20_000 });
  });
});
