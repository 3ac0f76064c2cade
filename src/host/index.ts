/** The host layer's public surface: the Host interface, its Linux implementation and its errors. */
export type * from './host.js';
export { createLinuxHost, type LinuxHostOptions } from './linux-host.js';
export { HostError, isHostError, type HostErrorCode, type HostErrorFields } from './host-error.js';
export { parseErrno, strerror, isErrnoName, STRERROR, type ErrnoName } from './errno.js';
export { parseCpuList, formatCpuList, formatCpuMask } from './parse.js';
