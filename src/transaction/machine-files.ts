/**
 * The machine's files as a transaction check sees them: read once per check, by machine path.
 * The daemon reads them through its Host (under its --root); `crtosctl validate --root DIR` reads
 * them under DIR. Both hand the same reader to the same checks, so they cannot disagree.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesSha256 } from '../kinds/image/digest.js';

/** A file that could not be read says why in a few words ("does not exist"), for the user's message. */
export type MachineFile = { bytes: Buffer; sha256: string } | { error: string; missing: boolean };

export interface MachineFiles {
  /** The file's bytes and their sha256, or why it cannot be read (the same answer all check long). */
  read(machinePath: string): Promise<MachineFile>;
  /** Whether the path exists (without reading it: a loader's program may be large). */
  exists(machinePath: string): Promise<boolean>;
}

const REASONS: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'does not exist (a part of its path is not a directory)',
  EACCES: 'is not readable (permission denied)',
  EISDIR: 'is a directory',
  ELOOP: 'is a symbolic link loop',
};

const errorOf = (e: unknown): MachineFile => {
  // Node's errors carry the errno name in `code`; the Host's HostError in `errno`.
  const err = e as { errno?: unknown; code?: unknown; message?: string };
  const name = [err.errno, err.code].find((c): c is string => typeof c === 'string' && c.startsWith('E'));
  const reason = (name && REASONS[name]) ?? `cannot be read (${err.message ?? String(e)})`;
  return { error: reason, missing: name === 'ENOENT' || name === 'ENOTDIR' };
};

/** A caching reader over `read` and `exists` (a Host's, say). */
export function machineFiles(read: (machinePath: string) => Promise<Buffer>, exists: (machinePath: string) => Promise<boolean>): MachineFiles {
  const cache = new Map<string, Promise<MachineFile>>();
  return {
    exists,
    read(path) {
      let p = cache.get(path);
      if (!p) {
        // Hashed a piece per turn: an image of many MB would otherwise be hashed in one.
        p = read(path).then(async (bytes): Promise<MachineFile> => ({ bytes, sha256: await bytesSha256(bytes) }), errorOf);
        cache.set(path, p);
      }
      return p;
    },
  };
}

/** Machine paths resolved under a directory (`--root`). */
export function machineFilesUnder(root: string): MachineFiles {
  const at = (path: string) => join(root, path);
  return machineFiles(
    (path) => readFile(at(path)),
    (path) => access(at(path)).then(
      () => true,
      () => false,
    ),
  );
}
