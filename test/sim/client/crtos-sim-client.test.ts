/**
 * The stand-in client answers as the Node.js tool it replaces: the same output, messages and exit
 * status, its own start time in the log, its cwd and environment forwarded.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempMachine } from '../helpers.js';
import { toolBundlePath, toolClientPath } from '../../../src/sim/bundle.js';

// Whatever the environment asks, the machines this file creates use the client.
delete process.env.CRTOS_SIM_CLIENT;

function exec(file: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(file, args, opts, (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
  });
}

describe.concurrent('stand-in client', () => {
  it('prints and exits as the Node.js tool does, success and failure alike', async () => {
    const m = await tempMachine();
    const node = (args: string[]) => exec(process.execPath, [toolBundlePath(), 'jailhouse', ...args], { env: { ...m.env, CRTOS_SIM_DIR: m.dir } });
    // Commands that change nothing, so both runs see the same machine.
    for (const args of [['bogus'], ['--version'], ['cell', 'list'], ['enable', '/etc/jailhouse/sysconfig.cell']]) {
      expect(await m.run('jailhouse', args), args.join(' ')).toEqual(await node(args));
    }
    expect(await m.run('jailhouse', ['enable', '/etc/jailhouse/sysconfig.cell'])).toEqual({ code: 1, stdout: '', stderr: 'opening /dev/jailhouse: No such file or directory\n' });
    expect((await m.run('jailhouse', ['bogus'])).code).toBe(1);
  });

  it('logs the client\'s start as the operation\'s start', async () => {
    const m = await tempMachine();
    await m.run('jailhouse', ['cell', 'list']); // the server is up: the next start is this call's
    const before = performance.timeOrigin + performance.now();
    await m.run('jailhouse', ['cell', 'list']);
    const after = performance.timeOrigin + performance.now();
    const entry = (await m.readLog()).at(-1)!;
    expect(entry.start).toBeGreaterThanOrEqual(before);
    expect(entry.start).toBeLessThanOrEqual(entry.workStart as number);
    expect(entry.end).toBeLessThanOrEqual(after);
  });

  it('forwards its working directory: a relative configuration path resolves there', async () => {
    const m = await tempMachine();
    await m.run('modprobe', ['jailhouse']);
    expect(await exec(join(m.binDir, 'jailhouse'), ['enable', 'sysconfig.cell'], { env: m.env, cwd: join(m.dir, 'etc/jailhouse') })).toMatchObject({ code: 0, stderr: '' });
    expect((await m.state()).jailhouse.enabled).toBe(true);
  });

  it('forwards its environment: without CRTOS_SIM_DIR the tool says how to run it', async () => {
    const m = await tempMachine();
    const client = toolClientPath()!;
    const env = { ...m.env };
    delete env.CRTOS_SIM_DIR;
    expect(await exec(client, [m.dir, process.execPath, toolBundlePath(), 'jailhouse', 'cell', 'list'], { env })).toEqual({
      code: 2,
      stdout: '',
      stderr: "jailhouse: CRTOS_SIM_DIR is not set; run the simulator's tools through the wrappers in DIR/bin\n",
    });
  });

  it('names a directory that is no simulated machine', async () => {
    const r = await exec(toolClientPath()!, ['/nonexistent', process.execPath, toolBundlePath(), 'jailhouse'], { env: process.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('crtos-sim-client: /nonexistent is not a simulated machine (no .sim directory): No such file or directory\n');
  });
});
