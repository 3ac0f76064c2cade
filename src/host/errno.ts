/**
 * Linux errno names and their glibc strerror texts, both ways. Tools report errors as text
 * (`JAILHOUSE_CELL_CREATE: Device or resource busy`), so the host recovers the errno by finding the
 * text; the simulator uses the same table to print the text for an errno, so the two cannot drift.
 */

export const STRERROR = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  E2BIG: 'Argument list too long',
  ENOEXEC: 'Exec format error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ENODEV: 'No such device',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  ERANGE: 'Numerical result out of range',
  ENOSYS: 'Function not implemented',
  EOPNOTSUPP: 'Operation not supported',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENETDOWN: 'Network is down',
  ETIMEDOUT: 'Connection timed out',
  ECONNREFUSED: 'Connection refused',
} as const;

export type ErrnoName = keyof typeof STRERROR;

/** Messages of kmod and iproute2 that stand for an errno without printing its strerror text. */
const TOOL_PHRASES: readonly (readonly [RegExp, ErrnoName])[] = [
  [/Unknown symbol in module, or unknown parameter/, 'ENOENT'],
  [/Invalid module format/, 'ENOEXEC'],
  [/Module \S+ is in use/, 'EBUSY'],
  [/Module \S+ is not currently loaded/, 'ENOENT'],
  [/Module \S+ not found in directory/, 'ENOENT'],
  [/Cannot find device/, 'ENODEV'],
  // iproute2 with kernel extended ack (current kernels) instead of "RTNETLINK answers: …".
  [/[Aa]ddress already assigned/, 'EEXIST'],
  [/[Aa]ddress not found/, 'EADDRNOTAVAIL'],
];

export function isErrnoName(value: string): value is ErrnoName {
  return Object.hasOwn(STRERROR, value);
}

export function strerror(errno: ErrnoName): string {
  return STRERROR[errno];
}

// Longest text first so that a text contained in another never wins over it.
const BY_TEXT = (Object.entries(STRERROR) as [ErrnoName, string][]).sort((a, b) => b[1].length - a[1].length);

/** The errno a tool's stderr names, from the first line that names one; undefined when none does. */
export function parseErrno(stderr: string): ErrnoName | undefined {
  for (const line of stderr.split('\n')) {
    for (const [name, text] of BY_TEXT) if (line.includes(text)) return name;
    for (const [pattern, name] of TOOL_PHRASES) if (pattern.test(line)) return name;
  }
  return undefined;
}
