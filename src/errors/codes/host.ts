/** Problem codes of this area; every code starts with HOST_. Joined in ../codes.ts. */
export const hostCodes = {
  HOST_INTERNAL: { summary: 'An unexpected internal error; please report it with the log' },
  HOST_TOOL_NOT_FOUND: { summary: 'A tool crtosd runs (jailhouse, modprobe, insmod, rmmod, ip, chrt, taskset) is not on PATH' },
  HOST_TOOL_FAILED: { summary: 'A tool exited with an error; the message carries its stderr and the errno it reported' },
  HOST_TOOL_TIMEOUT: { summary: 'A tool did not finish within its time limit and was killed' },
  HOST_CELL_NOT_CREATED: { summary: '`jailhouse cell create` succeeded but no cell of that name appeared (upstream does this on an architecture mismatch)' },
  HOST_READ_FAILED: { summary: 'A machine file (sysfs, procfs, an image) could not be read or parsed' },
  HOST_WRITE_FAILED: { summary: 'A machine file could not be installed (source missing, target directory not writable); the errno says why' },
  HOST_SPAWN_FAILED: { summary: 'A loader process could not be started' },
  HOST_BAD_ARGUMENT: { summary: 'An argument given to the host layer is malformed (an interface name, an address, a path)' },
  HOST_SIM_BAD_DESCRIPTION: { summary: 'A simulated machine description is invalid' },
  HOST_SIM_BAD_FAULT: { summary: 'A fault or latency given to the simulated machine is invalid' },
  HOST_SIM_FUSE_UNAVAILABLE: { summary: "A simulated remoteproc machine's sysfs (a FUSE file system) cannot be mounted: /dev/fuse, root, fuse3 or python3-fusepy is missing" },
} as const;
