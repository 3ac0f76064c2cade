import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfigs, decodeConfig, type CellConfig, type SystemConfig } from '../../src/jailhouse/index.js';
import { createSimMachine, nuttxImage } from '../../src/sim/index.js';
import { isProblemError } from '../../src/errors/problem.js';
import { machineFile, tempMachine } from './helpers.js';

describe.concurrent('a created machine', () => {
  it('has the real layout and the files the example units name', async () => {
    const m = await tempMachine();
    for (const path of ['etc/jailhouse/sysconfig.cell', 'etc/jailhouse/nuttx.cell', 'opt/crtos/nuttx.bin', 'opt/crtos/drivers/shadow.ko', 'opt/crtos/drivers/ivshmem-net.ko', 'opt/crtos/apps/hello']) {
      expect(statSync(join(m.dir, path)).isFile(), path).toBe(true);
    }
    expect(statSync(join(m.dir, 'opt/crtos/loader')).mode & 0o111).not.toBe(0);
    for (const tool of ['jailhouse', 'modprobe', 'insmod', 'rmmod', 'ip', 'chrt']) expect(statSync(join(m.binDir, tool)).mode & 0o111, tool).not.toBe(0);
    expect(m.env.PATH?.split(':')[0]).toBe(m.binDir);
    expect(machineFile(m, 'sys/devices/system/cpu/online')).toBe('0-3\n');
    expect(machineFile(m, 'sys/devices/system/cpu/cpu3/online')).toBe('1\n');
    // The x86 boot CPU cannot be unplugged: no online file.
    expect(machineFile(m, 'sys/devices/system/cpu/cpu0/online')).toBeNull();
    expect(machineFile(m, 'proc/modules')).toBe('');
    expect(machineFile(m, 'sys/devices/jailhouse/enabled')).toBeNull();
    expect(machineFile(m, 'lib/modules/5.4.0-crtos-sim/modules.dep')).toBe('extra/jailhouse.ko:\n');
    const endpoint = m.readinessEndpoint();
    // A loopback address of its own and a port no outgoing connection is given (below 32768).
    expect(endpoint?.host).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(endpoint?.port).toBeGreaterThanOrEqual(20_000);
    expect(endpoint?.port).toBeLessThan(32_768);
  });

  it('builds configurations with our codec: revision 12, x86, the two links, nuttx on CPU 3', async () => {
    const m = await tempMachine();
    const system = decodeConfig(readFileSync(join(m.dir, 'etc/jailhouse/sysconfig.cell')), { arch: 'x86' });
    const cell = decodeConfig(readFileSync(join(m.dir, 'etc/jailhouse/nuttx.cell')), { arch: 'x86' });
    expect(system.ok && cell.ok).toBe(true);
    const sys = (system as { config: SystemConfig }).config;
    const nuttx = (cell as { config: CellConfig }).config;
    expect(sys).toMatchObject({ kind: 'system', revision: 12, arch: 'x86' });
    expect(sys.rootCell.pciDevices.map((p) => [p.type, p.bdf, p.shmemProtocol])).toEqual([
      ['ivshmem', 0x0e << 3, 0x0002],
      ['ivshmem', 0x0d << 3, 0x0001],
    ]);
    expect(nuttx).toMatchObject({ kind: 'cell', revision: 12, name: 'nuttx', cpus: [3], flags: ['PASSIVE_COMMREG'] });
    expect(nuttx.memoryRegions.some((r) => r.virtStart === 0n && r.flags.includes('WRITE') && r.flags.includes('LOADABLE'))).toBe(true);
    expect(checkConfigs({ system: { file: 'sysconfig.cell', config: sys }, cells: [{ file: 'nuttx.cell', config: nuttx }] })).toEqual([]);
  });

  it('ships a deterministic image whose sha256 can be pinned', async () => {
    const m = await tempMachine();
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(sha(readFileSync(join(m.dir, 'opt/crtos/nuttx.bin')))).toBe(sha(nuttxImage()));
    // The example units pin this value: changing the image generator breaks them.
    expect(sha(nuttxImage())).toBe('8e6e20c0b6dcfa469f0fa6e553371a663d8847791035612c628d269ccf456939');
  });

  it('takes a description: CPUs, offline CPUs, revision, no example files', async () => {
    const m = await tempMachine({ cpus: 8, offlineCpus: [7], configRevision: 14, example: 'none', readiness: [] });
    expect(machineFile(m, 'sys/devices/system/cpu/online')).toBe('0-6\n');
    expect(machineFile(m, 'sys/devices/system/cpu/offline')).toBe('7\n');
    expect(machineFile(m, 'etc/jailhouse/sysconfig.cell')).toBeNull();
    expect(m.readinessEndpoint()).toBeUndefined();
    expect((await m.run('jailhouse', ['--version'])).stdout).toBe('Jailhouse management tool v0.12-324-ge57d1eff\n');
  });

  it('leaves tools named in realTools to the host', async () => {
    const m = await tempMachine({ realTools: ['ip', 'chrt'] });
    expect(machineFile(m, 'bin/ip')).toBeNull();
    expect(machineFile(m, 'bin/chrt')).toBeNull();
    expect(machineFile(m, 'bin/jailhouse')).not.toBeNull();
  });

  it('refuses a bad description and an existing machine, naming the problem', async () => {
    const m = await tempMachine();
    const problemsOf = async (p: Promise<unknown>) => p.then(() => [], (e: unknown) => (isProblemError(e) ? e.problems.map((x) => x.message) : [String(e)]));
    expect(await problemsOf(createSimMachine(m.dir))).toEqual([`${m.dir} already holds a simulated machine`]);
    const bad = await problemsOf(createSimMachine(join(m.dir, 'other'), { cpus: 0, readiness: [{ cell: 'nuttx', host: '172.16.0.2', port: 42 }] }));
    expect(bad).toContain('cpus must be an integer 1..64, not 0');
    expect(bad).toContain('readiness endpoint of nuttx must be a loopback address (127.0.0.0/8), not 172.16.0.2');
  });
});
