/** A Host that only reads: the files of a machine, by machine path (a missing one is ENOENT, as the Linux host says). */
import { HostError } from '../../src/host/host-error.js';
import type { Host } from '../../src/host/host.js';

export function filesHost(files: Record<string, Uint8Array>): Host {
  return {
    readFile: async (path: string) => {
      const bytes = files[path];
      if (!bytes) throw new HostError({ code: 'HOST_READ_FAILED', op: 'readFile', errno: 'ENOENT', message: `readFile: cannot read ${path}: ENOENT` });
      return Buffer.from(bytes);
    },
  } as unknown as Host;
}
