import { describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineFile, tempMachine } from '../helpers.js';
import { encodeConfig, type PciDevice } from '../../../src/jailhouse/index.js';
import { crtosSystemConfig } from '../../../src/sim/index.js';

const EXAMPLE = { revision: 12 as const, arch: 'x86' as const, cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } };

const SHADOW_KO = '/opt/crtos/drivers/shadow.ko';

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

  it("shadow's shmaddr: the shadow link's R/W section loads; the value is set but has no sysfs file (module_param perm 0)", async () => {
    const m = await tempMachine();
    await m.bringUp('enabled');
    expect(await m.runInProcess('insmod', [SHADOW_KO, 'shmaddr=0x100001000'])).toMatchObject({ code: 0, stderr: '' });
    expect((await m.state()).modules.find((x) => x.name === 'shadow')?.parameters).toEqual({ shmaddr: '4294971392' });
    expect(machineFile(m, 'sys/module/shadow/parameters/shmaddr')).toBeNull();
    expect(machineFile(m, 'dev/shadow-process0')).toBe('');
  });

  it("shadow's shmaddr: the README's stale address fails with EINVAL and the module's kernel line; nothing is loaded", async () => {
    const m = await tempMachine();
    await m.bringUp('enabled');
    expect(await m.run('insmod', [SHADOW_KO, 'shmaddr=0x108000000'])).toMatchObject({ code: 1, stderr: `insmod: ERROR: could not insert module ${SHADOW_KO}: Invalid parameters\n` });
    expect(machineFile(m, 'proc/modules')).not.toContain('shadow');
    expect(machineFile(m, 'dev/shadow-process0')).toBeNull();
    const entry = (await m.readLog()).find((e) => e.op === 'insmod');
    expect(entry).toMatchObject({ result: 'EINVAL', exitCode: 1, detail: { module: 'shadow', kernelLog: ['shadow: shmaddr 0x108000000 is not the R/W section of any shadow ivshmem device'] } });
    // Before enable there is no shadow device whose R/W section it could be.
    const early = await tempMachine();
    await early.bringUp('module');
    expect((await early.runInProcess('insmod', [SHADOW_KO, 'shmaddr=0x100001000'])).code).toBe(1);
    // Without shmaddr it loads, and binds the device once there is one.
    expect((await early.runInProcess('insmod', [SHADOW_KO])).code).toBe(0);
  });

  it('ignores an undeclared parameter with the kernel line in the log; modprobe words a refused value its own way', async () => {
    const m = await tempMachine({
      modules: [
        { name: 'jailhouse', installed: true, size: 45056, effect: 'jailhouse' },
        { name: 'demo', installed: true, parameters: { count: { default: '1', type: 'ulong' } } },
      ],
    });
    expect((await m.runInProcess('modprobe', ['jailhouse', 'foo=1'])).code).toBe(0);
    expect(machineFile(m, 'sys/module/jailhouse/parameters/foo')).toBeNull();
    expect((await m.readLog()).find((e) => e.op === 'modprobe')?.detail).toEqual({ module: 'jailhouse', alreadyLoaded: false, kernelLog: ["jailhouse: unknown parameter 'foo' ignored"] });
    expect(await m.runInProcess('modprobe', ['demo', 'count=many'])).toMatchObject({ code: 1, stderr: "modprobe: ERROR: could not insert 'demo': Invalid argument\n" });
    expect((await m.runInProcess('modprobe', ['demo', 'count=0x20'])).code).toBe(0);
    expect(machineFile(m, 'sys/module/demo/parameters/count')).toBe('32\n');
  });

  it("arm64 with a virtual PCI host on domain 1: the VETH device is 0001:00:01.0 and its interface enP1p0s1; a device outside the host's domain does not appear", async () => {
    const m = await tempMachine({ arch: 'arm64', configRevision: 14 });
    const base = crtosSystemConfig({ ...EXAMPLE, revision: 14, arch: 'arm64' });
    const [shadow, net] = base.rootCell.pciDevices as [PciDevice, PciDevice];
    const config = {
      ...base,
      platformInfo: { ...base.platformInfo, pciIsVirtual: 1, pciDomain: 1 },
      rootCell: { ...base.rootCell, pciDevices: [{ ...shadow, domain: 0, bdf: 2 << 3 }, { ...net, domain: 1, bdf: 1 << 3, numMsixVectors: 0 }] },
    };
    writeFileSync(join(m.dir, 'etc/jailhouse/vpci.cell'), encodeConfig(config));
    await m.bringUp('module');
    expect((await m.runInProcess('insmod', ['/opt/crtos/drivers/ivshmem-net.ko'])).code).toBe(0);
    expect((await m.runInProcess('insmod', [SHADOW_KO])).code).toBe(0);
    expect((await m.runInProcess('jailhouse', ['enable', '/etc/jailhouse/vpci.cell'])).code).toBe(0);
    expect(readdirSync(join(m.dir, 'sys/bus/pci/devices'))).toEqual(['0001:00:01.0']);
    expect(machineFile(m, 'sys/bus/pci/devices/0001:00:01.0/class')).toBe('0xff0001\n');
    expect(machineFile(m, 'dev/shadow-process0')).toBeNull();
    expect((await m.state()).interfaces.map((i) => i.name)).toEqual(['lo', 'enP1p0s1']);
  });
});
