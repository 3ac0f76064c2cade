import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { collectFacts } from '../../src/facts/collect.js';
import { createLinuxHost } from '../../src/host/index.js';
import { destroySimMachine } from '../../src/sim/index.js';
import { IMX8MP_BOARD, tempMachine } from '../sim/helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

describe('collecting machine facts', () => {
  it('reads a simulated machine as a real one: identity, CPUs, memory, board, Jailhouse', async () => {
    const m = await tempMachine({ ...IMX8MP_BOARD, cpus: 4, offlineCpus: [3] });
    cleanup.push(() => destroySimMachine(m.dir));
    await m.runInProcess('modprobe', ['jailhouse']);
    const facts = await collectFacts(createLinuxHost({ root: m.dir }));
    expect(facts).toEqual({
      crtosFactsVersion: 1,
      hostname: 'rt-box-7',
      machineId: '0123456789abcdef0123456789abcdef',
      architecture: 'arm64',
      cpus: { count: 4, online: '0-2' },
      // mem=1G gives Linux the first GiB, less the 64 MiB reserved for the hypervisor; the device
      // tree's memory node has all 2 GiB.
      memory: { total: 1006632960, systemRam: ['0x40000000-0x7bffffff'], physicalRam: ['0x40000000-0xbfffffff'] },
      kernel: { release: '6.1.0-rt', commandLine: 'console=ttymxc1 mem=1G' },
      board: { model: 'NXP i.MX8MPlus EVK board', compatible: ['fsl,imx8mp-evk', 'fsl,imx8mp'], id: 'fsl,imx8mp-evk' },
      jailhouse: { present: true, enabled: false, revision: 12, arch: 'arm64' },
      remoteproc: [],
    });
  });

  it('reads a hand-made root: the architecture from its init ELF header, DMI names, remote processors; leaves out what is not there', async () => {
    const { dir: root, put } = handMadeRoot();
    put('etc/hostname', 'gateway-3.plant\n');
    put('etc/machine-id', 'fedcba9876543210fedcba9876543210\n');
    // An ELF header: class 64-bit, little-endian, e_machine 243 (RISC-V) at byte 18.
    const elf = Buffer.alloc(64);
    elf.write('\x7fELF', 0, 'latin1');
    elf[4] = 2;
    elf[5] = 1;
    elf.writeUInt16LE(243, 18);
    put('sbin/init', elf);
    put('sys/devices/system/cpu/possible', '0-7\n');
    put('sys/devices/system/cpu/online', '0-7\n');
    put('proc/meminfo', 'MemTotal:        8040000 kB\nMemFree:  100 kB\n');
    // As a user other than root reads it: addresses are zeros, so no ranges.
    put('proc/iomem', '00000000-00000000 : System RAM\n');
    const memmap = [
      ['0x0', '0x9fbff', 'System RAM'],
      ['0x9fc00', '0x9ffff', 'Reserved'],
      ['0x100000', '0x7fffffff', 'System RAM'],
      ['0x80000000', '0x1ffffffff', 'System RAM'],
      ['0xfec00000', '0xfec00fff', 'Reserved'],
    ];
    memmap.forEach(([start, end, type], i) => {
      put(`sys/firmware/memmap/${i}/start`, `${start}\n`);
      put(`sys/firmware/memmap/${i}/end`, `${end}\n`);
      put(`sys/firmware/memmap/${i}/type`, `${type}\n`);
    });
    put('sys/class/dmi/id/sys_vendor', 'Advantech Co., Ltd.\n');
    put('sys/class/dmi/id/product_name', 'UNO-2484G\n');
    put('sys/class/remoteproc/remoteproc0/name', 'imx-rproc\n');
    put('sys/class/remoteproc/remoteproc0/state', 'running\n');
    const facts = await collectFacts(createLinuxHost({ root }));
    expect(facts).toEqual({
      crtosFactsVersion: 1,
      hostname: 'gateway-3.plant',
      machineId: 'fedcba9876543210fedcba9876543210',
      architecture: 'riscv64',
      cpus: { count: 8, online: '0-7' },
      // Adjacent System RAM entries of the firmware map joined, other types left out.
      memory: { total: 8040000 * 1024, physicalRam: ['0x00000000-0x0009fbff', '0x00100000-0x1ffffffff'] },
      kernel: { release: '', commandLine: '' },
      board: { vendor: 'Advantech Co., Ltd.', product: 'UNO-2484G', id: 'advantech-co.,-ltd.-uno-2484g' },
      jailhouse: { present: false, enabled: false },
      remoteproc: [{ name: 'imx-rproc', state: 'running' }],
    });
  });

  it("reads physical RAM from a device tree as Linux does: device_type memory nodes that are not disabled, the root's cell counts, Linux's 1 and 1 when not given", async () => {
    const root = handMadeRoot();
    const be32 = (...words: number[]) => Buffer.from(words.flatMap((w) => [w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff]));
    const node = (name: string, props: Record<string, string | Buffer>) => {
      for (const [k, v] of Object.entries(props)) root.put(`proc/device-tree/${name}/${k}`, v);
    };
    root.put('proc/device-tree/compatible', 'vendor,board\0');
    // No #address-cells / #size-cells at the root: one cell each. Two banks in one node.
    node('memory@80000000', { device_type: 'memory\0', reg: be32(0x80000000, 0x20000000, 0xa0000000, 0x10000000) });
    node('memory@c0000000', { device_type: 'memory\0', reg: be32(0xc0000000, 0x10000000), status: 'disabled\0' });
    node('memory-controller@4000', { reg: be32(0x4000, 0x1000) });
    node('memory@0', { reg: be32(0, 0x1000) });
    expect((await collectFacts(createLinuxHost({ root: root.dir }))).memory).toEqual({ total: 0, physicalRam: ['0x80000000-0xafffffff'] });
    // Two cells each: 4 GiB from 0x8_0000_0000 and an empty bank.
    root.put('proc/device-tree/#address-cells', be32(2));
    root.put('proc/device-tree/#size-cells', be32(2));
    node('memory@80000000', { reg: be32(8, 0, 1, 0, 0, 0x40000000, 0, 0) });
    expect((await collectFacts(createLinuxHost({ root: root.dir }))).memory).toEqual({ total: 0, physicalRam: ['0x800000000-0x8ffffffff'] });
  });

  it("reads the architecture of a tree's own systemd, not the host program an absolute /sbin/init symlink leads to", async () => {
    const root = handMadeRoot();
    // An arm64 Debian tree (before merged /usr): /sbin/init -> /lib/systemd/systemd, absolute.
    const elf = Buffer.alloc(64);
    elf.write('\x7fELF', 0, 'latin1');
    elf[4] = 2;
    elf[5] = 1;
    elf.writeUInt16LE(183, 18);
    root.put('lib/systemd/systemd', elf);
    mkdirSync(join(root.dir, 'sbin'));
    // Under --root that target is the host's: here this test's own node, an x86-64 (or other host) program.
    symlinkSync(process.execPath, join(root.dir, 'sbin/init'));
    expect((await collectFacts(createLinuxHost({ root: root.dir }))).architecture).toBe('arm64');
  });

  it('leaves physical RAM unknown when the firmware map cannot be read whole', async () => {
    const root = handMadeRoot();
    root.put('sys/firmware/memmap/0/start', '0x0\n');
    root.put('sys/firmware/memmap/0/end', '0x7fffffff\n');
    root.put('sys/firmware/memmap/0/type', 'System RAM\n');
    // As for a user other than root: the entry's files cannot be read (here: a directory instead).
    mkdirSync(join(root.dir, 'sys/firmware/memmap/1/start'), { recursive: true });
    root.put('sys/firmware/memmap/1/end', '0xffffffff\n');
    root.put('sys/firmware/memmap/1/type', 'System RAM\n');
    expect((await collectFacts(createLinuxHost({ root: root.dir }))).memory).toEqual({ total: 0 });
  });
});

function handMadeRoot(): { dir: string; put: (path: string, content: string | Buffer) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'crtos-facts-root-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const put = (path: string, content: string | Buffer) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  return { dir, put };
}
