/**
 * Reading one unit file, defensively: whatever sits in a unit directory under a `.yaml` name (a
 * FIFO, a device, a link loop, a 50 MB log, a binary) ends as one problem naming the file, never as
 * a hang, an exception or a file read whole into memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import type { Problem } from '../errors/problem.js';
import { MAX_FILE_BYTES, formatBytes } from './limits.js';
import { findBadByte } from './text-check.js';

export type ReadOutcome = { text: string; problem?: undefined } | { text?: undefined; problem: Problem };

const NOT_HERE = 'only *.yaml and *.yml files are read: give it another name, or move it out of the unit directory';

/** Words for a failed open, read or readdir: what happened and how to fix it. */
export function describeReadError(e: unknown): { message: string; hint?: string } {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return { message: 'it disappeared while units were being loaded (ENOENT)', hint: 'it was removed or renamed after its directory was listed; load again once the files are in place' };
    case 'ELOOP':
      return { message: 'too many levels of symbolic links (ELOOP): the link leads back to itself', hint: 'point the link at a unit file, or remove it' };
    case 'EACCES':
    case 'EPERM':
      return { message: `permission denied (${code})`, hint: 'make it readable by the user crtosd runs as' };
    default:
      return { message: `cannot read: ${e instanceof Error ? e.message : String(e)}` };
  }
}

const failed = (file: string, e: unknown): Problem => ({ code: 'UNIT_READ_FAILED', file, ...describeReadError(e) });

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device';
  return 'special file';
}

function tooLarge(file: string, size: number): Problem {
  return {
    code: 'UNIT_FILE_TOO_LARGE',
    file,
    message: `it is ${size} bytes, more than the ${formatBytes(MAX_FILE_BYTES)} a unit file may have`,
    hint: `split its units over several files; if it is not a unit file, ${NOT_HERE}`,
  };
}

/** The file's text, or the problem that stops it being read. Never throws. */
export async function readUnitFile(file: string, path: string): Promise<ReadOutcome> {
  let handle: FileHandle;
  try {
    // Non-blocking, so that opening a FIFO does not wait for a writer (it changes nothing for files).
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return { problem: failed(file, e) };
  }
  try {
    // Checked on the open file, not the name, so that nothing can be swapped in between.
    const stats = await handle.stat();
    if (!stats.isFile()) {
      return { problem: { code: 'UNIT_READ_FAILED', file, message: `not a regular file but a ${kindOf(stats)}`, hint: 'a unit file must be a regular file or a symbolic link to one' } };
    }
    if (stats.size > MAX_FILE_BYTES) return { problem: tooLarge(file, stats.size) };
    const bytes = await readSize(handle, stats.size);
    const bad = findBadByte(bytes);
    if (bad) {
      const what = bad.nul ? 'a NUL byte' : `the byte 0x${bytes[bad.offset]!.toString(16).padStart(2, '0')}, which is not UTF-8`;
      return {
        problem: {
          code: 'UNIT_NOT_TEXT',
          file,
          line: bad.line,
          column: bad.column,
          offset: bad.offset,
          message: `not a text file: ${what} at byte ${bad.offset}`,
          hint: `unit files are YAML text in UTF-8: save it as UTF-8; if it is not a unit file, ${NOT_HERE}`,
        },
      };
    }
    return { text: bytes.toString('utf8') };
  } catch (e) {
    return { problem: failed(file, e) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The file's first `size` bytes, the size fstat gave (fewer if it shrank since). Never more: a file
 * that grows while it is read cannot take more memory than the size that passed the limit.
 */
async function readSize(handle: FileHandle, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(size);
  let length = 0;
  while (length < size) {
    const { bytesRead } = await handle.read(buffer, length, size - length, null);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}
