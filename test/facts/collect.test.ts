import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
      // 2 GiB less the 64 MiB reserved for the hypervisor.
      memory: { total: 2080374784, systemRam: ['0x40000000-0x7bffffff', '0x80000000-0xbfffffff'] },
      kernel: { release: '6.1.0-rt', commandLine: 'console=ttymxc1 mem=1G' },
      board: { model: 'NXP i.MX8MPlus EVK board', compatible: ['fsl,imx8mp-evk', 'fsl,imx8mp'], id: 'fsl,imx8mp-evk' },
      jailhouse: { present: true, enabled: false, revision: 12, arch: 'arm64' },
      remoteproc: [],
    });
  });

  it('reads a hand-made root: the architecture from its init ELF header, DMI names, remote processors; leaves out what is not there', async () => {
    const root = mkdtempSync(join(tmpdir(), 'crtos-facts-root-'));
    cleanup.push(async () => rmSync(root, { recursive: true, force: true }));
    const put = (path: string, content: string | Buffer) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    };
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
      memory: { total: 8040000 * 1024 },
      kernel: { release: '', commandLine: '' },
      board: { vendor: 'Advantech Co., Ltd.', product: 'UNO-2484G', id: 'advantech-co.,-ltd.-uno-2484g' },
      jailhouse: { present: false, enabled: false },
      remoteproc: [{ name: 'imx-rproc', state: 'running' }],
    });
  });
});
