/** Machine facts for the conditions and specifiers tests, written out (not computed by the code under test). */
import type { MachineFacts } from '../../src/facts/types.js';

export function facts(over: Partial<MachineFacts> = {}): MachineFacts {
  return {
    crtosFactsVersion: 1,
    hostname: 'rt-box-7.lab.example',
    machineId: '0123456789abcdef0123456789abcdef',
    architecture: 'arm64',
    cpus: { count: 4, online: '0-3' },
    memory: { total: 2 * 1024 ** 3, systemRam: ['0x40000000-0xbfffffff'] },
    kernel: { release: '6.1.0-rt', commandLine: 'console=ttymxc1 memmap=0x6000000$0x3a000000 quiet' },
    board: { model: 'NXP i.MX8MPlus EVK board', compatible: ['fsl,imx8mp-evk', 'fsl,imx8mp'], id: 'fsl,imx8mp-evk' },
    jailhouse: { present: true, enabled: false },
    remoteproc: [],
    ...over,
  };
}
