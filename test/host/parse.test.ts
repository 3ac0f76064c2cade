import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatCpuList, formatCpuMask, parseCpuList, parseIpAddrJson, parseProcModules, parseProcStat } from '../../src/host/parse.js';

describe('CPU lists and masks as sysfs prints them', () => {
  it('parses and formats lists', () => {
    expect(parseCpuList('1-3,5\n')).toEqual([1, 2, 3, 5]);
    expect(parseCpuList('\n')).toEqual([]);
    expect(parseCpuList('0')).toEqual([0]);
    expect(formatCpuList([5, 1, 2, 3])).toBe('1-3,5');
    expect(formatCpuList([2, 5])).toBe('2,5');
    expect(formatCpuList([])).toBe('');
    expect(() => parseCpuList('3-1')).toThrow();
    expect(() => parseCpuList('a')).toThrow();
  });

  it('round-trips any CPU set', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 127 })), (cpus) => {
        expect(parseCpuList(formatCpuList(cpus))).toEqual([...cpus].sort((a, b) => a - b));
      }),
    );
  });

  it('formats %*pb masks: digits for nr_cpu_ids bits, 32-bit groups', () => {
    expect(formatCpuMask([3], 4)).toBe('8');
    expect(formatCpuMask([0, 1, 2, 3], 4)).toBe('f');
    expect(formatCpuMask([], 4)).toBe('0');
    expect(formatCpuMask([1], 8)).toBe('02');
    expect(formatCpuMask([0, 33], 40)).toBe('02,00000001');
  });
});

describe('/proc/modules', () => {
  it('reads name, size, refcount, users and state', () => {
    const text = 'ivshmem_net 28672 0 - Live 0x0000000000000000\njailhouse 45056 2 shadow,uio_ivshmem, Live 0xffffffffc0a00000 (O)\n';
    expect(parseProcModules(text)).toEqual([
      { name: 'ivshmem_net', size: 28672, refcount: 0, usedBy: [], state: 'Live' },
      { name: 'jailhouse', size: 45056, refcount: 2, usedBy: ['shadow', 'uio_ivshmem'], state: 'Live' },
    ]);
    expect(parseProcModules('')).toEqual([]);
    expect(() => parseProcModules('broken line\n')).toThrow();
  });
});

describe('/proc/PID/stat', () => {
  it('counts fields after the last parenthesis, so odd command names do not shift them', () => {
    const rest = Array.from({ length: 50 }, (_, i) => String(i + 4));
    rest[22 - 4] = '987654';
    const text = `4242 (a (weird) name) S ${rest.join(' ')}\n`;
    expect(parseProcStat(text)).toEqual({ pid: 4242, comm: 'a (weird) name', state: 'S', ppid: 4, pgid: 5, sid: 6, startTime: 987654 });
    expect(() => parseProcStat('garbage')).toThrow();
  });
});

describe('ip -j addr show', () => {
  it('reads names, UP and CIDR addresses', () => {
    const json = JSON.stringify([
      { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }, { family: 'inet6', local: '::1', prefixlen: 128 }] },
      { ifindex: 3, ifname: 'enp0s13', flags: ['BROADCAST', 'MULTICAST', 'M-DOWN'], addr_info: [] },
    ]);
    expect(parseIpAddrJson(json)).toEqual([
      { name: 'lo', up: true, addresses: ['127.0.0.1/8', '::1/128'] },
      { name: 'enp0s13', up: false, addresses: [] },
    ]);
    expect(parseIpAddrJson('')).toEqual([]);
    expect(() => parseIpAddrJson('{}')).toThrow();
  });
});
