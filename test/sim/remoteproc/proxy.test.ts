/** The stand-in Linux proxy of the example (/opt/rpmsg/rpmsg-proxy), run through its wrapper as a Loader would run it. */
import { describe, expect, it } from 'vitest';
import { copyFileSync, writeFileSync } from 'node:fs';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { SimMachine } from '../../../src/sim/index.js';
import { REMOTEPROC_DESCRIPTION, REMOTEPROC_FIRMWARE_FILE, REMOTEPROC_PROXY_FILE } from '../../../src/sim/remoteproc/example.js';
import { eventsOf, waitFor } from '../../helpers/wait-for.js';
import { tempMachine, untilMachine } from '../helpers.js';

const STATE = 'sys/class/remoteproc/remoteproc0/state';

function proxy(m: SimMachine, ...args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(join(m.dir, REMOTEPROC_PROXY_FILE), args, { env: m.env }, (error, _stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }));
  });
}

async function running(): Promise<SimMachine> {
  const m = await tempMachine(REMOTEPROC_DESCRIPTION);
  copyFileSync(join(m.dir, REMOTEPROC_FIRMWARE_FILE), join(m.dir, 'lib/firmware/rproc-imx-rproc-fw'));
  writeFileSync(join(m.dir, STATE), 'start');
  await untilMachine(m, 'the rpmsg tty', async () => (await m.remoteproc()).processors[0]?.channels[0]?.tty === 0);
  return m;
}

const proxyLog = async (m: SimMachine) => (await m.readLog()).filter((e) => e.op === 'rpmsg proxy').map((e) => [e.args.join(' '), e.result, e.exitCode]);

describe('rpmsg-proxy', () => {
  it('--ping: exits 0 when the firmware answers, 1 when it hangs, 1 when the tty is not there', async () => {
    const m = await running();
    expect(await proxy(m, '--ping')).toEqual({ code: 0, stderr: '' });
    await m.hangProcessor('imx-rproc');
    const hung = await proxy(m, '--ping', '--timeout', '200', '/dev/ttyRPMSG0');
    expect(hung.code).toBe(1);
    expect(hung.stderr).toBe('rpmsg-proxy: no answer from the remote firmware on /dev/ttyRPMSG0 within 200 ms\n');
    writeFileSync(join(m.dir, STATE), 'stop');
    const gone = await proxy(m, '--ping');
    expect(gone).toEqual({ code: 1, stderr: 'rpmsg-proxy: cannot open /dev/ttyRPMSG0: No such file or directory\n' });
    expect(await proxyLog(m)).toEqual([
      ['--ping', 'ok', 0],
      ['--ping --timeout 200 /dev/ttyRPMSG0', 'ETIMEDOUT', 1],
      ['--ping', 'ENOENT', 1],
    ]);
  });

  it('resident: stays while the channel is there, exits 1 when the tty hangs up (the processor stopped)', async () => {
    const m = await running();
    const child = spawn(join(m.dir, REMOTEPROC_PROXY_FILE), [], { env: { ...m.env, RPMSG_TTY: '/dev/ttyRPMSG0' }, stdio: 'ignore' });
    await untilMachine(m, 'the proxy resident', async () => (await proxyLog(m)).some(([, result]) => result === 'ok'));
    expect(child.exitCode).toBeNull();
    writeFileSync(join(m.dir, STATE), 'stop');
    const code = await waitFor('the proxy to exit', () => child.exitCode ?? undefined, { sources: [eventsOf(child, 'exit')], timeoutMs: 5000 });
    expect(code).toBe(1);
    expect(await proxyLog(m)).toEqual([
      ['', 'ok', 0],
      ['', 'hangup', 1],
    ]);
  });

  it('refuses bad usage', async () => {
    const m = await tempMachine(REMOTEPROC_DESCRIPTION);
    expect(await proxy(m, '--timeout', 'soon')).toEqual({ code: 2, stderr: 'Usage: rpmsg-proxy [--ping] [--timeout MS] [TTY]\n' });
  });
});
