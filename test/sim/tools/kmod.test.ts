import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineFile, tempMachine } from '../helpers.js';

describe.concurrent('stand-in modprobe, insmod, rmmod', () => {
  it('modprobe loads a catalog module by name, idempotently; unknown names fail like kmod', async () => {
    const m = await tempMachine();
    expect((await m.run('modprobe', ['jailhouse'])).code).toBe(0);
    expect(machineFile(m, 'proc/modules')).toBe('jailhouse 45056 0 - Live 0x0000000000000000\n');
    expect(machineFile(m, 'sys/devices/jailhouse/enabled')).toBe('0\n');
    expect(machineFile(m, 'dev/jailhouse')).toBe('');
    expect((await m.runInProcess('modprobe', ['jailhouse'])).code).toBe(0);
    const missing = await m.runInProcess('modprobe', ['nosuch']);
    expect(missing).toMatchObject({ code: 1, stderr: 'modprobe: FATAL: Module nosuch not found in directory /lib/modules/5.4.0-crtos-sim\n' });
    // A module only available as a file is not found by name.
    expect((await m.runInProcess('modprobe', ['shadow'])).code).toBe(1);
    expect((await m.runInProcess('modprobe', [])).code).toBe(1);
  });

  it('insmod loads by path, refuses twice, a missing file and a non-module', async () => {
    const m = await tempMachine();
    const ko = join(m.dir, 'opt/crtos/drivers/ivshmem-net.ko');
    expect((await m.run('insmod', [ko])).code).toBe(0);
    expect(machineFile(m, 'proc/modules')).toContain('ivshmem_net 28672 0 - Live');
    expect(await m.run('insmod', [ko])).toMatchObject({ code: 1, stderr: `insmod: ERROR: could not insert module ${ko}: File exists\n` });
    expect(await m.runInProcess('insmod', ['/opt/none.ko'])).toMatchObject({ code: 1, stderr: 'insmod: ERROR: could not load module /opt/none.ko: No such file or directory\n' });
    writeFileSync(join(m.dir, 'opt/text.ko'), 'hello');
    expect(await m.runInProcess('insmod', ['/opt/text.ko'])).toMatchObject({ code: 1, stderr: 'insmod: ERROR: could not insert module /opt/text.ko: Invalid module format\n' });
    expect((await m.runInProcess('insmod', [])).code).toBe(1);
  });

  it('shows declared parameters with defaults and given values; ignores unknown ones as the kernel does', async () => {
    const m = await tempMachine({ modules: [{ name: 'shadow', file: '/opt/shadow.ko', parameters: { shmaddr: '0', verbose: 'N' } }] });
    expect((await m.runInProcess('insmod', ['/opt/shadow.ko', 'shmaddr=0x108000000', 'bogus=1'])).code).toBe(0);
    expect(machineFile(m, 'sys/module/shadow/parameters/shmaddr')).toBe('0x108000000\n');
    expect(machineFile(m, 'sys/module/shadow/parameters/verbose')).toBe('N\n');
    expect(machineFile(m, 'sys/module/shadow/parameters/bogus')).toBeNull();
  });

  it('rmmod accepts dashes, refuses modules in use and not loaded', async () => {
    const m = await tempMachine();
    await m.bringUp('drivers');
    expect((await m.runInProcess('rmmod', ['ivshmem-net'])).code).toBe(0);
    expect(machineFile(m, 'sys/module/ivshmem_net/initstate')).toBeNull();
    expect(await m.runInProcess('rmmod', ['ivshmem-net'])).toMatchObject({ code: 1, stderr: 'rmmod: ERROR: Module ivshmem_net is not currently loaded\n' });
    expect((await m.runInProcess('modprobe', ['-r', 'ivshmem_net'])).code).toBe(0);
    expect(await m.runInProcess('rmmod', ['jailhouse'])).toMatchObject({ code: 1, stderr: 'rmmod: ERROR: Module jailhouse is in use\n' });
    expect(machineFile(m, 'proc/modules')).toMatch(/^shadow .*\njailhouse 45056 1 - Live/);
  });

  it('devices follow the configuration: nothing before enable, then shadow-process0 and enp0s13', async () => {
    const m = await tempMachine();
    await m.bringUp('module');
    expect((await m.runInProcess('insmod', ['/opt/crtos/drivers/shadow.ko'])).code).toBe(0);
    expect((await m.runInProcess('insmod', ['/opt/crtos/drivers/ivshmem-net.ko'])).code).toBe(0);
    expect(machineFile(m, 'dev/shadow-process0')).toBeNull();
    expect((await m.state()).interfaces.map((i) => i.name)).toEqual(['lo']);
    await m.bringUp('enabled');
    // Enable adds the virtual PCI devices; the loaded drivers bind them (PCI hot-plug).
    expect(machineFile(m, 'dev/shadow-process0')).toBe('');
    expect((await m.state()).interfaces.map((i) => i.name)).toEqual(['lo', 'enp0s13']);
    expect((await m.runInProcess('jailhouse', ['disable'])).code).toBe(0);
    expect(machineFile(m, 'dev/shadow-process0')).toBeNull();
    expect((await m.state()).interfaces.map((i) => i.name)).toEqual(['lo']);
  });
});
