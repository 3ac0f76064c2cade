import { describe, expect, it } from 'vitest';
import { ipArgv, jailhouseArgv, loaderArgv, moduleArgv } from '../../src/host/argv.js';

describe('tool argv', () => {
  it('addresses cells by --name and gives every image its address', () => {
    expect(jailhouseArgv.load('nuttx', [{ file: '/opt/nuttx.bin' }, { string: 'console=ttyS0', address: 0x1000n }])).toEqual([
      'jailhouse', 'cell', 'load', '--name', 'nuttx', '/opt/nuttx.bin', '--address', '0x0', '--string', 'console=ttyS0', '--address', '0x1000',
    ]);
    expect(jailhouseArgv.start('1')).toEqual(['jailhouse', 'cell', 'start', '--name', '1']);
    expect(jailhouseArgv.shutdown('n')).toEqual(['jailhouse', 'cell', 'shutdown', '--name', 'n']);
    expect(jailhouseArgv.destroy('n')).toEqual(['jailhouse', 'cell', 'destroy', '--name', 'n']);
    expect(jailhouseArgv.create('/etc/x.cell')).toEqual(['jailhouse', 'cell', 'create', '/etc/x.cell']);
  });

  it('passes module parameters as k=v', () => {
    expect(moduleArgv.modprobe('jailhouse')).toEqual(['modprobe', 'jailhouse']);
    expect(moduleArgv.insmod('/x/shadow.ko', { shmaddr: '0x108000000' })).toEqual(['insmod', '/x/shadow.ko', 'shmaddr=0x108000000']);
  });

  it('builds ip commands', () => {
    expect(ipArgv.addAddress('enp0s13', '172.16.0.1/24')).toEqual(['ip', 'addr', 'add', '172.16.0.1/24', 'dev', 'enp0s13']);
    expect(ipArgv.linkUp('enp0s13')).toEqual(['ip', 'link', 'set', 'dev', 'enp0s13', 'up']);
  });

  it('wraps a loader in chrt and taskset, which exec it', () => {
    const tools = { chrt: '/usr/bin/chrt', taskset: '/usr/bin/taskset' };
    expect(loaderArgv(['/opt/loader', 'app'], { policy: 'fifo', priority: 80 }, [3, 1], tools)).toEqual([
      '/usr/bin/chrt', '-f', '80', '/usr/bin/taskset', '-c', '1,3', '/opt/loader', 'app',
    ]);
    expect(loaderArgv(['/opt/loader'], undefined, undefined, tools)).toEqual(['/opt/loader']);
    expect(loaderArgv(['/opt/loader'], { policy: 'rr', priority: 1 }, [], tools)).toEqual(['/usr/bin/chrt', '-r', '1', '/opt/loader']);
  });
});
