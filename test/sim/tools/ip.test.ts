import { describe, expect, it } from 'vitest';
import { tempMachine } from '../helpers.js';

describe.concurrent('stand-in ip', () => {
  it('adds, shows and deletes addresses; sets links up and down', async () => {
    const m = await tempMachine();
    await m.bringUp('drivers');
    expect((await m.run('ip', ['addr', 'add', '172.16.0.1/24', 'dev', 'enp0s13'])).code).toBe(0);
    expect((await m.runInProcess('ip', ['address', 'add', '2001:db8::1/64', 'dev', 'enp0s13'])).code).toBe(0);
    expect((await m.runInProcess('ip', ['link', 'set', 'enp0s13', 'up'])).code).toBe(0);
    const shown = JSON.parse((await m.runInProcess('ip', ['-j', 'addr', 'show', 'dev', 'enp0s13'])).stdout) as Record<string, unknown>[];
    expect(shown[0]).toMatchObject({ ifname: 'enp0s13', operstate: 'UP', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] });
    expect(shown[0]?.addr_info).toMatchObject([
      { family: 'inet', local: '172.16.0.1', prefixlen: 24 },
      { family: 'inet6', local: '2001:db8::1', prefixlen: 64 },
    ]);
    expect((await m.runInProcess('ip', ['addr', 'show'])).stdout).toMatch(/2: enp0s13: <BROADCAST,MULTICAST,UP,LOWER_UP>[^\n]*\n.*\n {4}inet 172\.16\.0\.1\/24 scope global enp0s13/);
    expect((await m.runInProcess('ip', ['addr', 'del', '172.16.0.1/24', 'dev', 'enp0s13'])).code).toBe(0);
    expect((await m.runInProcess('ip', ['link', 'set', 'dev', 'enp0s13', 'down'])).code).toBe(0);
    expect((await m.state()).interfaces.find((i) => i.name === 'enp0s13')).toMatchObject({ up: false, addresses: ['2001:db8::1/64'] });
  });

  it('fails like iproute2', async () => {
    const m = await tempMachine();
    await m.bringUp('network');
    expect(await m.runInProcess('ip', ['addr', 'add', '172.16.0.1/24', 'dev', 'enp0s13'])).toMatchObject({ code: 2, stderr: 'Error: ipv4: Address already assigned.\n' });
    expect(await m.runInProcess('ip', ['addr', 'del', '172.16.0.7/24', 'dev', 'enp0s13'])).toMatchObject({ code: 2, stderr: 'Error: ipv4: Address not found.\n' });
    expect(await m.runInProcess('ip', ['addr', 'add', '172.16.0.1/24', 'dev', 'eth9'])).toMatchObject({ code: 1, stderr: 'Cannot find device "eth9"\n' });
    expect(await m.runInProcess('ip', ['link', 'set', 'dev', 'eth9', 'up'])).toMatchObject({ code: 1, stderr: 'Cannot find device "eth9"\n' });
    expect(await m.runInProcess('ip', ['addr', 'show', 'dev', 'eth9'])).toMatchObject({ code: 1, stderr: 'Device "eth9" does not exist.\n' });
    expect(await m.runInProcess('ip', ['addr', 'add', '300.1.1.1/24', 'dev', 'enp0s13'])).toMatchObject({ code: 1, stderr: 'Error: inet prefix is expected rather than "300.1.1.1/24".\n' });
    expect(await m.runInProcess('ip', ['route'])).toMatchObject({ code: 255, stderr: 'Object "route" is unknown, try "ip help".\n' });
    await m.addFault({ op: 'ip addr add', errno: 'EPERM', target: 'enp0s13' });
    expect(await m.runInProcess('ip', ['addr', 'add', '172.16.0.5/24', 'dev', 'enp0s13'])).toMatchObject({ code: 2, stderr: 'RTNETLINK answers: Operation not permitted\n' });
  });
});
