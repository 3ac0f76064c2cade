/**
 * The Linux host against the simulated machine: every observation and every operation, success
 * and failure, through the stand-in tools on PATH exactly as on a real machine.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinuxHost, type Host } from '../../src/host/index.js';
import type { ToolRun } from '../../src/host/host.js';
import { encodeConfig } from '../../src/jailhouse/index.js';
import { nuttxCellConfig, type MachineDescription, type SimMachine } from '../../src/sim/index.js';
import { tempMachine, untilMachine } from '../sim/helpers.js';
import { changesOf, until } from '../helpers/wait-for.js';
import { hostError, untilSeen } from './helpers.js';

async function setup(description?: Partial<MachineDescription>): Promise<{ m: SimMachine; host: Host }> {
  const m = await tempMachine(description);
  return { m, host: createLinuxHost({ root: m.dir, env: m.env }) };
}

/** Whether a process runs (a zombie is gone but for its exit status). */
function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The PID of the stand-in that hangs in `op` (from the machine's log), once it hangs. */
async function hungPid(m: SimMachine, op: string): Promise<number> {
  let pid: number | undefined;
  await untilMachine(m, `${op} to hang`, async () => (pid = (await m.readLog()).find((e) => e.op === op && e.result === 'hang')?.detail?.pid as number | undefined) !== undefined);
  return pid!;
}

const SYS = '/etc/jailhouse/sysconfig.cell';
const NUTTX = '/etc/jailhouse/nuttx.cell';

describe.concurrent('LinuxHost observations on the simulated machine', () => {
  it('reads sysfs attributes in a batch, each as text or the errno and message of its failure', async () => {
    const { m, host } = await setup();
    await m.bringUp('created');
    const reads = await host.readAttributes(['/sys/devices/jailhouse/enabled', '/sys/devices/jailhouse/cells/1/name', '/sys/devices/jailhouse/cells/9/name', '/sys/devices/jailhouse']);
    expect(reads.slice(0, 2)).toEqual([{ text: '1\n' }, { text: 'nuttx\n' }]);
    expect(reads[2]).toEqual({ errno: 'ENOENT', error: expect.stringContaining('no such file or directory') });
    expect(reads[3]).toEqual({ errno: 'EISDIR', error: expect.stringContaining('illegal operation on a directory') });
    expect(await host.readAttributes([])).toEqual([]);
    expect(await hostError(host.readAttributes(['relative']))).toMatchObject({ code: 'HOST_BAD_ARGUMENT' });
  });

  it('lists a directory sorted; a missing one is HOST_READ_FAILED with ENOENT', async () => {
    const { m, host } = await setup();
    await m.bringUp('created');
    expect(await host.readDir('/sys/devices/jailhouse/cells')).toEqual(['0', '1']);
    expect(await host.readDir('/sys/devices/jailhouse/cells/1')).toEqual(expect.arrayContaining(['cpus_assigned_list', 'name', 'state']));
    expect(await hostError(host.readDir('/sys/devices/none'))).toMatchObject({ code: 'HOST_READ_FAILED', op: 'readDir', errno: 'ENOENT' });
  });

  it('reads modules with their parameters', async () => {
    const { m, host } = await setup({
      modules: [
        { name: 'jailhouse', installed: true, size: 45056, effect: 'jailhouse' },
        { name: 'shadow', file: '/opt/crtos/drivers/shadow.ko', size: 20480, effect: 'shadow', parameters: { shmaddr: '0', debug: 'N' } },
      ],
    });
    await m.bringUp('enabled');
    await host.loadModule({ path: '/opt/crtos/drivers/shadow.ko', parameters: { shmaddr: '0x108000000' } });
    const modules = await host.modules();
    expect(modules.map((x) => x.name)).toEqual(['shadow', 'jailhouse']);
    expect(modules[0]).toEqual({ name: 'shadow', size: 20480, refcount: 0, usedBy: [], state: 'Live', parameters: { debug: 'N', shmaddr: '0x108000000' } });
    expect(modules[1]).toMatchObject({ name: 'jailhouse', refcount: 1 });
  });

  it('reads online CPUs, files and device nodes', async () => {
    const { m, host } = await setup();
    expect(await host.onlineCpus()).toEqual([0, 1, 2, 3]);
    await m.bringUp('drivers');
    expect(await host.onlineCpus()).toEqual([0, 1, 2]);
    expect(await host.exists('/dev/shadow-process0')).toBe(true);
    expect(await host.exists('/dev/shadow-process1')).toBe(false);
    expect((await host.readFile('/opt/crtos/nuttx.bin')).subarray(0, 9).toString()).toBe('crtos-sim');
    const missing = await hostError(host.readFile('/etc/none'));
    expect(missing).toMatchObject({ code: 'HOST_READ_FAILED', op: 'readFile', errno: 'ENOENT' });
  });

  it('reads a file in pieces of at most the size asked, in order', async () => {
    const { host } = await setup();
    const whole = await host.readFile('/opt/crtos/nuttx.bin');
    const pieces: Buffer[] = [];
    for await (const piece of host.readChunks('/opt/crtos/nuttx.bin', 1000)) pieces.push(piece);
    expect(pieces.length).toBe(Math.ceil(whole.length / 1000));
    expect(pieces.every((p) => p.length <= 1000)).toBe(true);
    expect(Buffer.concat(pieces).equals(whole)).toBe(true);
    const missing = await hostError((async () => {
      for await (const _ of host.readChunks('/etc/none', 1000)) void _;
    })());
    expect(missing).toMatchObject({ code: 'HOST_READ_FAILED', op: 'readChunks', errno: 'ENOENT' });
  });

  it('keeps every machine path under the root', async () => {
    const { m, host } = await setup();
    expect(host.resolve('/../../etc/passwd')).toBe(join(m.dir, 'etc/passwd'));
    expect(() => host.resolve('relative')).toThrow(/absolute/);
  });

  it('fails observations with typed errors', async () => {
    const { m, host } = await setup();
    await m.bringUp('enabled');
    await m.setFaults([{ op: 'ip addr show', errno: 'EPERM', times: 1 }]);
    expect(await hostError(host.interfaces())).toMatchObject({ code: 'HOST_TOOL_FAILED', op: 'interfaces', errno: 'EPERM', exitCode: 1 });
    writeFileSync(join(m.dir, 'proc/modules'), 'garbage\n');
    expect(await hostError(host.modules())).toMatchObject({ code: 'HOST_READ_FAILED', op: 'modules' });
    expect(await host.process({ pid: 2 ** 22 + 1, startTime: 0 })).toBeUndefined();
  });

  it('reads online CPUs from the per-CPU files when the summary is missing', async () => {
    const { m, host } = await setup();
    await m.setCpuOnline(2, false);
    rmSync(join(m.dir, 'sys/devices/system/cpu/online'));
    // cpu0 has no online file on x86: it is always online.
    expect(await host.onlineCpus()).toEqual([0, 1, 3]);
  });

  it('reads interfaces through ip -j', async () => {
    const { m, host } = await setup();
    expect(await host.interfaces()).toEqual([{ name: 'lo', up: true, addresses: ['127.0.0.1/8'] }]);
    await m.bringUp('network');
    expect((await host.interfaces()).find((i) => i.name === 'enp0s13')).toEqual({ name: 'enp0s13', up: true, addresses: ['172.16.0.1/24'] });
  });
});

describe.concurrent('LinuxHost operations on the simulated machine', () => {
  it('brings up and tears down the cRTOS deployment', async () => {
    const { m, host } = await setup();
    await host.loadModule({ name: 'jailhouse' });
    await host.enableJailhouse(SYS);
    await host.createCell(NUTTX);
    expect(await host.readAttributes(['/sys/devices/jailhouse/cells/1/name', '/sys/devices/jailhouse/cells/1/state'])).toEqual([{ text: 'nuttx\n' }, { text: 'shut down\n' }]);
    await host.loadCell('nuttx', [{ file: '/opt/crtos/nuttx.bin' }, { string: 'hello', address: 0x1000n }]);
    await host.startCell('nuttx');
    await host.loadModule({ path: '/opt/crtos/drivers/shadow.ko' });
    await host.loadModule({ path: '/opt/crtos/drivers/ivshmem-net.ko' });
    await host.addAddress('enp0s13', '172.16.0.1/24');
    await host.setLinkUp('enp0s13');
    expect(await host.readAttributes(['/sys/devices/jailhouse/cells/1/state'])).toEqual([{ text: 'running\n' }]);
    const endpoint = m.readinessEndpoint() as { host: string; port: number };
    await untilSeen('the cell to accept on its readiness endpoint', () => host.probeTcp(endpoint.host, endpoint.port, 200));
    await host.removeAddress('enp0s13', '172.16.0.1/24');
    await host.shutdownCell('nuttx');
    expect(await host.probeTcp(endpoint.host, endpoint.port, 200)).toBe(false);
    await host.destroyCell('nuttx');
    await host.unloadModule('ivshmem-net');
    await host.unloadModule('shadow');
    await host.disableJailhouse();
    await host.unloadModule('jailhouse');
    expect(await host.exists('/sys/devices/jailhouse')).toBe(false);

    const log = await m.readLog();
    const load = log.find((e) => e.op === 'jailhouse cell load');
    // Cells are always addressed by name; every image carries its address.
    expect(load?.args).toEqual(['cell', 'load', '--name', 'nuttx', join(m.dir, 'opt/crtos/nuttx.bin'), '--address', '0x0', '--string', 'hello', '--address', '0x1000']);
    expect(log.filter((e) => e.op.startsWith('jailhouse cell') && e.op !== 'jailhouse cell list' && e.op !== 'jailhouse cell create').every((e) => e.args.includes('--name'))).toBe(true);
    expect(log.every((e) => e.result === 'ok')).toBe(true);
  });

  it('turns tool failures into HostErrors with op, errno, exit code, stderr and argv', async () => {
    const { m, host } = await setup();
    await m.bringUp('created');
    const busy = await hostError(host.enableJailhouse(SYS));
    expect(busy).toMatchObject({
      code: 'HOST_TOOL_FAILED',
      op: 'enableJailhouse',
      errno: 'EBUSY',
      exitCode: 1,
      stderr: 'JAILHOUSE_ENABLE: Device or resource busy\n',
      argv: ['jailhouse', 'enable', join(m.dir, SYS)],
    });
    expect(busy.message).toContain('JAILHOUSE_ENABLE: Device or resource busy');
    expect(await hostError(host.createCell(NUTTX))).toMatchObject({ op: 'createCell', errno: 'EEXIST' });
    expect(await hostError(host.loadCell('ghost', [{ file: '/opt/crtos/nuttx.bin' }]))).toMatchObject({ op: 'loadCell', errno: 'ENOENT' });
    expect(await hostError(host.loadCell('nuttx', [{ file: '/opt/crtos/nuttx.bin', address: 0x40000000n }]))).toMatchObject({ errno: 'EINVAL' });
    expect(await hostError(host.startCell('ghost'))).toMatchObject({ op: 'startCell', errno: 'ENOENT' });
    expect(await hostError(host.shutdownCell('ghost'))).toMatchObject({ op: 'shutdownCell', errno: 'ENOENT' });
    expect(await hostError(host.destroyCell('RootCell'))).toMatchObject({ op: 'destroyCell', errno: 'EINVAL' });
    expect(await hostError(host.unloadModule('jailhouse'))).toMatchObject({ op: 'unloadModule', errno: 'EBUSY' });
    expect(await hostError(host.unloadModule('shadow'))).toMatchObject({ errno: 'ENOENT' });
    expect(await hostError(host.loadModule({ name: 'nosuch' }))).toMatchObject({ op: 'loadModule', errno: 'ENOENT', exitCode: 1 });
    expect(await hostError(host.loadModule({ path: '/opt/none.ko' }))).toMatchObject({ errno: 'ENOENT' });
    writeFileSync(join(m.dir, 'opt/bad.ko'), 'not an ELF');
    expect(await hostError(host.loadModule({ path: '/opt/bad.ko' }))).toMatchObject({ errno: 'ENOEXEC' });
    expect(await hostError(host.setLinkUp('enp0s13'))).toMatchObject({ op: 'setLinkUp', errno: 'ENODEV', exitCode: 1 });
    await m.bringUp('network');
    expect(await hostError(host.addAddress('enp0s13', '172.16.0.1/24'))).toMatchObject({ op: 'addAddress', errno: 'EEXIST', exitCode: 2 });
    expect(await hostError(host.removeAddress('enp0s13', '172.16.0.9/24'))).toMatchObject({ op: 'removeAddress', errno: 'EADDRNOTAVAIL', exitCode: 2 });
    await host.disableJailhouse();
    expect(await hostError(host.disableJailhouse())).toMatchObject({ op: 'disableJailhouse', errno: 'EINVAL' });
  });

  it('resolves a create that exits 0 without creating the cell (architecture mismatch): the backend checks sysfs', async () => {
    const { m, host } = await setup({ configRevision: 14 });
    await m.bringUp('enabled');
    const arm = nuttxCellConfig({ revision: 14, arch: 'arm64', cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } });
    writeFileSync(join(m.dir, 'etc/jailhouse/arm.cell'), encodeConfig(arm));
    await host.createCell('/etc/jailhouse/arm.cell');
    expect(await host.readDir('/sys/devices/jailhouse/cells')).toEqual(['0']);
  });

  it('fails once with an injected errno, then succeeds', async () => {
    const { m, host } = await setup();
    await m.bringUp('module');
    await m.setFaults([{ op: 'jailhouse enable', errno: 'ENOMEM', times: 1 }]);
    expect(await hostError(host.enableJailhouse(SYS))).toMatchObject({ errno: 'ENOMEM', stderr: 'JAILHOUSE_ENABLE: Cannot allocate memory\n' });
    await host.enableJailhouse(SYS);
    expect((await m.faults()).faults).toEqual([]);
  });

  it('kills a hanging tool after its time limit', async () => {
    const m = await tempMachine();
    const host = createLinuxHost({ root: m.dir, env: m.env, toolTimeoutMs: 500 });
    await m.bringUp('enabled');
    await m.setFaults([{ op: 'jailhouse cell create', hang: true }]);
    const e = await hostError(host.createCell(NUTTX));
    expect(e).toMatchObject({ code: 'HOST_TOOL_TIMEOUT', errno: 'ETIMEDOUT', signal: 'SIGTERM' });
    // The hung stand-in held the driver mutex; the next command takes the stale lock over.
    await m.setFaults([]);
    await createLinuxHost({ root: m.dir, env: m.env }).createCell(NUTTX);
    expect(await host.readDir('/sys/devices/jailhouse/cells')).toEqual(['0', '1']);
  });

  it('kills a hanging jailhouse command with its process group the moment its caller gives up', async () => {
    const m = await tempMachine();
    const host = createLinuxHost({ root: m.dir, env: m.env });
    await m.bringUp('enabled');
    await m.setFaults([{ op: 'jailhouse cell create', hang: true, times: 1 }]);
    const abort = new AbortController();
    const create = host.createCell(NUTTX, { signal: abort.signal });
    const pid = await hungPid(m, 'jailhouse cell create');
    abort.abort();
    expect(await hostError(create)).toMatchObject({ code: 'HOST_TOOL_TIMEOUT', errno: 'ETIMEDOUT', signal: 'SIGTERM' });
    expect(alive(pid)).toBe(false);
    // Killed before it changed anything; the next create takes the driver lock over.
    expect(await host.readDir('/sys/devices/jailhouse/cells')).toEqual(['0']);
    await host.createCell(NUTTX);
    expect(await host.readDir('/sys/devices/jailhouse/cells')).toEqual(['0', '1']);
  });

  it('does not start a jailhouse command behind one given up but not exited yet (it holds the driver lock)', async () => {
    // A stand-in whose `enable` ignores SIGTERM until the SIGKILL after the grace, as an ioctl that
    // does not return at once; every call is logged (after the trap is set: the abort follows the log).
    const root = mkdtempSync(join(tmpdir(), 'crtos-lingering-'));
    mkdirSync(join(root, 'bin'));
    const calls = join(root, 'calls');
    writeFileSync(join(root, 'bin/jailhouse'), `#!/bin/sh\ncase "$1" in enable) trap "" TERM;; esac\necho "$*" >> ${calls}\ncase "$1" in enable) sleep 30;; esac\nexit 0\n`, { mode: 0o755 });
    const host = createLinuxHost({ root, env: { PATH: `${join(root, 'bin')}:/usr/bin:/bin` }, killGraceMs: 1500 });
    try {
      const abort = new AbortController();
      let run: ToolRun | undefined;
      const enable = host.enableJailhouse(SYS, { signal: abort.signal, runs: { started: (r) => (run = r), ended: () => undefined } });
      await until('the stand-in to log its call', () => existsSync(calls), { sources: [changesOf(calls)], timeoutMs: 5000 });
      abort.abort();
      // Given up too while it waits: never run.
      expect(await hostError(host.startCell('nuttx', { signal: AbortSignal.timeout(300) }))).toMatchObject({
        code: 'HOST_TOOL_TIMEOUT',
        message: `startCell: \`jailhouse cell start --name nuttx\` was not run: \`jailhouse enable ${join(root, SYS)}\` (pid ${run!.pid}), killed when its caller gave up, has not exited yet and holds the Jailhouse driver lock`,
      });
      // One that may wait runs once the killed one is gone (SIGKILL after the grace).
      const start = host.startCell('nuttx');
      expect(await hostError(enable)).toMatchObject({ code: 'HOST_TOOL_TIMEOUT', signal: 'SIGKILL' });
      await start;
      expect(readFileSync(calls, 'utf8')).toBe(`enable ${join(root, SYS)}\ncell start --name nuttx\n`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('says which tool is missing from PATH', async () => {
    const m = await tempMachine();
    const host = createLinuxHost({ root: m.dir, env: { PATH: '/nonexistent' } });
    expect(await hostError(host.enableJailhouse(SYS))).toMatchObject({ code: 'HOST_TOOL_NOT_FOUND', errno: 'ENOENT' });
    expect(await hostError(host.spawn({ argv: ['/opt/crtos/loader', 'x'], env: {}, scheduling: { policy: 'fifo', priority: 1 } }))).toMatchObject({ code: 'HOST_TOOL_NOT_FOUND' });
  });

  it('refuses malformed interface names and addresses before running ip', async () => {
    const { m, host } = await setup();
    expect(await hostError(host.addAddress('enp0s13', '172.16.0.1'))).toMatchObject({ code: 'HOST_BAD_ARGUMENT' });
    expect(await hostError(host.addAddress('bad name', '172.16.0.1/24'))).toMatchObject({ code: 'HOST_BAD_ARGUMENT' });
    expect(await hostError(host.setLinkUp('a-name-longer-than-15'))).toMatchObject({ code: 'HOST_BAD_ARGUMENT' });
    expect((await m.readLog()).filter((e) => e.op.startsWith('ip '))).toEqual([]);
  });
});

describe('LinuxHost loaders on the simulated machine', () => {
  it('starts the loader detached with scheduling and affinity; it lives until the cell stops', async () => {
    const { m, host } = await setup();
    await m.bringUp('network');
    const endpoint = m.readinessEndpoint() as { host: string; port: number };
    await untilSeen('the cell to accept on its readiness endpoint', () => host.probeTcp(endpoint.host, endpoint.port, 200));
    const id = await host.spawn({
      argv: ['/opt/crtos/loader', '/opt/crtos/apps/hello'],
      env: { SHADOWPROC: '/dev/shadow-process0', CRTOS_SIM_ENDPOINT: `${endpoint.host}:${endpoint.port}` },
      scheduling: { policy: 'fifo', priority: 80 },
      cpus: [0],
    });
    await untilMachine(m, 'the loader to log that it is resident', async () => (await m.readLog()).some((e) => e.op === 'loader' && e.result === 'ok'));
    const log = await m.readLog();
    expect(log.find((e) => e.op === 'chrt')?.detail).toMatchObject({ policy: 'fifo', priority: 80 });
    expect(log.find((e) => e.op === 'loader' && e.result === 'ok')?.detail).toMatchObject({ pid: id.pid, cpusAllowed: '0', shadow: '/dev/shadow-process0' });
    const info = await host.process(id);
    expect(info?.argv.slice(-2)).toEqual(['loader', '/opt/crtos/apps/hello']);
    await host.shutdownCell('nuttx');
    expect(await host.waitExit(id)).toEqual({ code: 1, signal: null });
    expect(await host.process(id)).toBeUndefined();
  });

  it('a spawn through chrt resolves once chrt exec\'d the program; one whose chrt hangs is killed with its group', async () => {
    const { m, host } = await setup();
    await m.bringUp('network');
    const endpoint = m.readinessEndpoint() as { host: string; port: number };
    await untilSeen('the cell to accept on its readiness endpoint', () => host.probeTcp(endpoint.host, endpoint.port, 200));
    const spec = {
      argv: ['/opt/crtos/loader', '/opt/crtos/apps/hello'],
      env: { SHADOWPROC: '/dev/shadow-process0', CRTOS_SIM_ENDPOINT: `${endpoint.host}:${endpoint.port}` },
      scheduling: { policy: 'fifo' as const, priority: 80 },
    };
    const runs: string[] = [];
    const observer = { started: (r: ToolRun) => runs.push(`started ${r.op} ${r.pid} ${r.wrappers?.map((w) => w.split('/').pop()).join()}`), ended: (r: ToolRun) => runs.push(`ended ${r.pid}`) };
    const id = await host.spawn(spec, { runs: observer });
    // Already past the wrapper (`sh …/bin/chrt -f 80 …`): the program runs.
    const argv = (await host.process(id))?.argv ?? [];
    expect(argv.slice(-1)).toEqual(['/opt/crtos/apps/hello']);
    expect(argv).not.toContain(join(m.dir, 'bin/chrt'));
    expect(runs).toEqual([`started spawn ${id.pid} chrt`, `ended ${id.pid}`]);
    await host.killGroup(id, 'SIGKILL');
    await host.waitGroupGone(id);

    await m.setFaults([{ op: 'chrt', hang: true, times: 1 }]);
    const abort = new AbortController();
    const spawn = host.spawn(spec, { signal: abort.signal });
    const chrt = await hungPid(m, 'chrt');
    abort.abort();
    const e = await hostError(spawn);
    expect(e).toMatchObject({ code: 'HOST_TOOL_TIMEOUT', op: 'spawn' });
    const pid = Number(/pid (\d+)/.exec(e.message)![1]);
    expect(e.message).toBe(`spawn: \`chrt\` (pid ${pid}) did not exec ${join(m.dir, 'opt/crtos/loader')} before its caller's deadline; killed it with its process group`);
    // Killed with its group: the hung wrapper's processes go a moment later on a busy machine.
    await untilSeen(`the wrapper (pid ${pid}) and chrt (pid ${chrt}) to be gone`, () => !alive(pid) && !alive(chrt), 2000);
  });

  it('a loader whose cell is not running aborts like the C++ loader', async () => {
    const { m, host } = await setup();
    await m.bringUp('loaded');
    const id = await host.spawn({ argv: ['/opt/crtos/loader', '/opt/crtos/apps/hello'], env: {} });
    expect(await host.waitExit(id)).toEqual({ code: 134, signal: null });
    expect((await m.readLog()).find((e) => e.op === 'loader')?.detail).toMatchObject({ what: 'Connection failed with Connection refused' });
  });

  it('kill ends a resident loader; killing it again reports it gone', async () => {
    const { m, host } = await setup();
    await m.bringUp('drivers');
    const endpoint = m.readinessEndpoint() as { host: string; port: number };
    await untilSeen('the cell to accept on its readiness endpoint', () => host.probeTcp(endpoint.host, endpoint.port, 200));
    const id = await host.spawn({ argv: ['/opt/crtos/loader', '/opt/crtos/apps/hello'], env: {} });
    await untilMachine(m, 'the loader to log that it is resident', async () => (await m.readLog()).some((e) => e.op === 'loader' && e.result === 'ok'));
    expect(await host.kill(id, 'SIGTERM')).toBe(true);
    expect(await host.waitExit(id)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await host.kill(id, 'SIGTERM')).toBe(false);
  });
});
