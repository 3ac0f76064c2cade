/**
 * Placing a file on the machine atomically: copy into a temporary file next to the target, make it
 * durable, then rename it over the target. rename(2) within one directory is atomic, so a reader
 * (rtvmm.ko opening /vmm/rtos.bin) sees the old file or the complete new one, never a part.
 */
import { chmod, copyFile, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { HostError } from './host-error.js';
import { isErrnoName, strerror, type ErrnoName } from './errno.js';

export const DEFAULT_INSTALL_MODE = 0o644;

/**
 * Real paths (already resolved under the root); the machine paths are for messages. `source` may
 * instead be the content itself (an encoded inline cell configuration), written the same way.
 */
export interface InstallPaths {
  source: string | Uint8Array;
  target: string;
  machineSource: string;
  machineTarget: string;
}

export async function installFileAtomically(p: InstallPaths, mode = DEFAULT_INSTALL_MODE): Promise<void> {
  // The source is checked first so its failure is reported as the source's, not the target's.
  if (typeof p.source === 'string') {
    try {
      const st = await stat(p.source);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : 'EINVAL' });
    } catch (e) {
      throw writeError(e, `cannot read the source ${p.machineSource}`, 'check the path of the file to install (it is resolved under the host root)');
    }
  }
  const dir = dirname(p.target);
  // A dot-file, so directory listings of the target directory skip a leftover after a crash.
  const tmp = join(dir, `.${basename(p.target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
      // mkdir -p says EEXIST when a file is in the way; the truth is "not a directory".
      throw e.code === 'EEXIST' ? Object.assign(e, { code: 'ENOTDIR' }) : e;
    });
    if (typeof p.source === 'string') await copyFile(p.source, tmp);
    else await writeFile(tmp, p.source, { flag: 'wx' });
    await chmod(tmp, mode);
    // Durable before it becomes visible: after a power loss the target is old or new, not empty.
    const handle = await open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, p.target);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw writeError(e, `cannot write ${p.machineTarget}`, `check that the directory of ${p.machineTarget} is writable and is a directory`);
  }
}

function writeError(e: unknown, what: string, hint: string): HostError {
  const code = (e as NodeJS.ErrnoException).code;
  const errno: ErrnoName | undefined = code !== undefined && isErrnoName(code) ? code : undefined;
  const reason = errno ? strerror(errno) : (e as Error).message;
  return new HostError({ code: 'HOST_WRITE_FAILED', op: 'installFile', errno, message: `installFile: ${what}: ${reason}`, hint });
}
