import { describe, expect, it } from 'vitest';
import { STRERROR, parseErrno, strerror, type ErrnoName } from '../../src/host/errno.js';

describe('errno from tool messages', () => {
  it('finds the errno in perror-style messages', () => {
    expect(parseErrno('JAILHOUSE_CELL_CREATE: Device or resource busy\n')).toBe('EBUSY');
    expect(parseErrno('JAILHOUSE_ENABLE: Invalid argument')).toBe('EINVAL');
    expect(parseErrno('opening /dev/jailhouse: No such file or directory')).toBe('ENOENT');
    expect(parseErrno('RTNETLINK answers: File exists')).toBe('EEXIST');
    expect(parseErrno('read(console): Resource temporarily unavailable')).toBe('EAGAIN');
  });

  it('knows the phrases of kmod and iproute2 that stand for an errno', () => {
    expect(parseErrno('rmmod: ERROR: Module jailhouse is in use')).toBe('EBUSY');
    expect(parseErrno('rmmod: ERROR: Module shadow is not currently loaded')).toBe('ENOENT');
    expect(parseErrno('modprobe: FATAL: Module x not found in directory /lib/modules/5.4')).toBe('ENOENT');
    expect(parseErrno('insmod: ERROR: could not insert module x.ko: Invalid module format')).toBe('ENOEXEC');
    expect(parseErrno('Cannot find device "enp0s13"')).toBe('ENODEV');
    expect(parseErrno('Error: ipv4: Address already assigned.')).toBe('EEXIST');
    expect(parseErrno('Error: ipv4: Address not found.')).toBe('EADDRNOTAVAIL');
  });

  it('every strerror text maps back to its own errno', () => {
    for (const name of Object.keys(STRERROR) as ErrnoName[]) expect(parseErrno(`X: ${strerror(name)}`)).toBe(name);
  });

  it('answers undefined when no errno is named', () => {
    expect(parseErrno('something odd happened')).toBeUndefined();
    expect(parseErrno('')).toBeUndefined();
  });
});
