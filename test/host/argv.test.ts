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
    const tools = { chrt: '/usr/bin/chrt', taskset: '/usr/bin/taskset', prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv' };
    expect(loaderArgv(['/opt/loader', 'app'], { scheduling: { policy: 'fifo', priority: 80 }, cpus: [3, 1] }, tools)).toEqual([
      '/usr/bin/chrt', '-f', '80', '/usr/bin/taskset', '-c', '1,3', '/opt/loader', 'app',
    ]);
    expect(loaderArgv(['/opt/loader'], {}, tools)).toEqual(['/opt/loader']);
    expect(loaderArgv(['/opt/loader'], { scheduling: { policy: 'rr', priority: 1 }, cpus: [] }, tools)).toEqual(['/usr/bin/chrt', '-r', '1', '/opt/loader']);
  });

  it('sets limits with prlimit before chrt and drops privileges with setpriv last', () => {
    const tools = { chrt: 'chrt', taskset: 'taskset', prlimit: 'prlimit', setpriv: 'setpriv' };
    const wrap = {
      scheduling: { policy: 'fifo' as const, priority: 80 },
      limits: { core: 0n, rtprio: 99n, memlock: 'infinity' as const, nofile: 4096n },
      credentials: { user: 'crtos', group: 'crtos', initGroups: true },
    };
    expect(loaderArgv(['/opt/loader', 'app'], wrap, tools)).toEqual([
      'prlimit', '--memlock=unlimited:unlimited', '--rtprio=99:99', '--nofile=4096:4096', '--core=0:0', '--',
      'chrt', '-f', '80',
      'setpriv', '--reuid=crtos', '--regid=crtos', '--init-groups', '--',
      '/opt/loader', 'app',
    ]);
    // A group alone keeps the user (root) and clears the supplementary groups.
    expect(loaderArgv(['/opt/loader'], { credentials: { group: '100', initGroups: false } }, tools)).toEqual(['setpriv', '--regid=100', '--clear-groups', '--', '/opt/loader']);
  });
});
