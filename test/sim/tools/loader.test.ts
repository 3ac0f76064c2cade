/** The stand-in cRTOS loader, run through its wrapper as a real process. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { SimMachine } from '../../../src/sim/index.js';
import { every, until } from '../../helpers/wait-for.js';
import { tempMachine, untilMachine } from '../helpers.js';

function loader(m: SimMachine, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(join(m.dir, 'opt/crtos/loader'), args, { env }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
    });
  });
}

/** Whether the simulated cell accepts on its loopback readiness endpoint (as crtosd's probe asks). */
function accepts(m: SimMachine): Promise<boolean> {
  const endpoint = m.readinessEndpoint('nuttx');
  if (!endpoint) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect(endpoint.port, endpoint.host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe.concurrent('stand-in loader', () => {
  it('without an application prints usage and exits 1', async () => {
    const m = await tempMachine();
    expect(await loader(m, [])).toEqual({ code: 1, stderr: 'Usage: loader <optional env> <elf file> ...\n' });
  });

  it('aborts when the sRTOS does not answer', async () => {
    const m = await tempMachine();
    const r = await loader(m, ['/opt/crtos/apps/hello']);
    expect(r.code).toBe(134);
    expect(r.stderr).toContain('what():  Connection failed with Connection refused');
  });

  it('never leaves the machine: a non-loopback endpoint fails without connecting', async () => {
    const m = await tempMachine();
    const r = await loader(m, ['/opt/crtos/apps/hello'], { CRTOS_SIM_ENDPOINT: '172.16.0.2:42' });
    expect(r.code).toBe(134);
    expect(r.stderr).toContain('Network is down');
  });

  it('aborts without the shadow device, and exits 129 when the application is missing', async () => {
    const m = await tempMachine();
    await m.bringUp('running');
    const endpoint = m.readinessEndpoint() as { host: string; port: number };
    const env = { CRTOS_SIM_ENDPOINT: `${endpoint.host}:${endpoint.port}` };
    // Wait for the cell's endpoint to listen: then the loader gets as far as the shadow device.
    // Nothing announces the listening socket: each try is a loader run, on a tick.
    await until('the loader to get as far as the shadow device', async () => {
      const r = await loader(m, ['/opt/crtos/apps/hello'], env);
      return r.stderr.includes('Error on opening shadow process: No such file or directory');
    }, { sources: [every(20)], timeoutMs: 5000 });
    await m.bringUp('drivers');
    expect((await loader(m, ['/opt/crtos/apps/none'], { ...env, SHADOWPROC: '/dev/shadow-process0' })).code).toBe(129);
  });

  it('stays resident until the cell stops', async () => {
    const m = await tempMachine();
    await m.bringUp('drivers');
    // As crtosd does, start the loader only once the cell answers: a booting cell refuses.
    await until('the cell to accept on its readiness endpoint', () => accepts(m), { sources: [every(20)], timeoutMs: 15_000 });
    const running = loader(m, ['VERBOSE=1', '/opt/crtos/apps/hello']);
    await untilMachine(m, 'the loader to log that it is resident', async () => (await m.readLog()).some((e) => e.op === 'loader'), { timeoutMs: 15_000 });
    expect((await m.readLog()).filter((e) => e.op === 'loader').map((e) => e.result)).toEqual(['ok']);
    await m.failCell('nuttx');
    expect(await running).toEqual({ code: 1, stderr: 'loader: connection to the sRTOS closed\n' });
  });
});
