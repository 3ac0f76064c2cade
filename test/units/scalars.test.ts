import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { address, cidr, cidrProblem, cpuList, duration, formatCpuList, parseCpuList, parseDuration, parseSize, size, tcpEndpoint } from '../../src/units/scalars.js';

describe('friendly scalars', () => {
  it('durations in systemd style, bare numbers as seconds', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1min 30s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1.5')).toBe(1500);
    expect(parseDuration('10 parsecs')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(duration.parse(0.25)).toBe(250);
    expect(duration.safeParse(-1).success).toBe(false);
  });

  it('sizes with binary suffixes or hex', () => {
    expect(parseSize('1G')).toBe(1n << 30n);
    expect(parseSize('512M')).toBe(512n << 20n);
    expect(parseSize('4KiB')).toBe(4096n);
    expect(parseSize('0x40000000')).toBe(0x40000000n);
    expect(parseSize('lots')).toBeUndefined();
    expect(size.parse(4096)).toBe(4096n);
  });

  it('addresses as hex strings or numbers, exact beyond 2^53', () => {
    expect(address.parse('0x1000')).toBe(0x1000n);
    expect(address.parse(4096)).toBe(4096n);
    expect(address.parse('18446744069414588416')).toBe(0xffffffff00001000n);
    expect(address.safeParse('0xzz').success).toBe(false);
  });

  it('CPU lists', () => {
    expect(parseCpuList('1-3,5')).toEqual([1, 2, 3, 5]);
    expect(parseCpuList('3-1')).toBeUndefined();
    expect(cpuList.parse(2)).toEqual([2]);
    expect(cpuList.parse([3, 1, 3])).toEqual([1, 3]);
  });

  it('formatCpuList and parseCpuList are inverses (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 127 }), { maxLength: 20 }), (cpus) => {
        const sorted = [...cpus].sort((a, b) => a - b);
        expect(parseCpuList(formatCpuList(cpus))).toEqual(sorted);
      }),
    );
  });

  it('TCP endpoints, IPv6 in brackets', () => {
    expect(tcpEndpoint.parse('172.16.0.2:42')).toEqual({ host: '172.16.0.2', port: 42 });
    expect(tcpEndpoint.parse('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(tcpEndpoint.safeParse('localhost').success).toBe(false);
    expect(tcpEndpoint.safeParse('h:70000').success).toBe(false);
  });

  it('interface addresses: IPv4 numbers 0-255 with a prefix 0-32, IPv6 with a prefix 0-128', () => {
    for (const ok of ['172.16.0.1/24', '0.0.0.0/0', '255.255.255.255/32', 'fd00::1/64', '::/0', '::1/128', 'FE80::1/10', '::ffff:10.0.0.1/96']) {
      expect(cidr.safeParse(ok).success, ok).toBe(true);
      expect(cidr.parse(ok)).toBe(ok);
    }
    expect(cidrProblem('999.1.1.1/99')).toBe(
      "'999.1.1.1/99' is not an address with prefix length: '999.1.1.1' is not an IPv4 address (four numbers 0 to 255, as in 172.16.0.1); the prefix length of an IPv4 address is 0 to 32, not '99'",
    );
    expect(cidrProblem('10.0.0.1/33')).toMatch(/IPv4 address is 0 to 32, not '33'$/);
    expect(cidrProblem('fd00::1/129')).toMatch(/IPv6 address is 0 to 128, not '129'$/);
    expect(cidrProblem('fd00::g/64')).toMatch(/'fd00::g' is not an IPv6 address$/);
    expect(cidrProblem('10.0.0.1')).toMatch(/has no prefix length/);
    for (const bad of ['10.0.0/8', '10.0.0.01/8', '1.2.3.4.5/8', '10.0.0.1/', '10.0.0.1/+8', '10.0.0.1/08', 'fe80::1%eth0/64', 'eth0/24', ' 10.0.0.1/8']) {
      expect(cidr.safeParse(bad).success, bad).toBe(false);
    }
  });
});
