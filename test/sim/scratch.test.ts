import { describe, expect, it } from 'vitest';
import { accessSync, constants, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { MIN_FREE_BYTES, TMPFS_MAGIC, firstRoomyTmpfs, memoryTmpdir, type DirProbe } from '../../src/sim/scratch.js';

const EXT4_MAGIC = 0xef53;
const machineOf = (dirs: Record<string, { type: number; freeBytes: number } | 'missing'>): DirProbe => (dir) => {
  const d = dirs[dir];
  if (d === undefined || d === 'missing') throw Object.assign(new Error(`ENOENT: ${dir}`), { code: 'ENOENT' });
  return d;
};

describe('firstRoomyTmpfs', () => {
  it('takes the first candidate that is a tmpfs with room, in the order given', () => {
    const probe = machineOf({ '/tmp': { type: EXT4_MAGIC, freeBytes: 80e9 }, '/dev/shm': { type: TMPFS_MAGIC, freeBytes: 12e9 }, '/run/user/0': { type: TMPFS_MAGIC, freeBytes: 2e9 } });
    expect(firstRoomyTmpfs(['/tmp', '/dev/shm', '/run/user/0'], probe)).toBe('/dev/shm');
    expect(firstRoomyTmpfs(['/run/user/0', '/dev/shm'], probe)).toBe('/run/user/0');
  });

  it("passes over a container's small /dev/shm, a missing directory and a disk", () => {
    const probe = machineOf({ '/tmp': { type: EXT4_MAGIC, freeBytes: 80e9 }, '/dev/shm': { type: TMPFS_MAGIC, freeBytes: 64 * 1024 * 1024 }, '/gone': 'missing' });
    expect(firstRoomyTmpfs(['/gone', '/dev/shm', '/tmp'], probe)).toBeUndefined();
    expect(firstRoomyTmpfs(['/dev/shm'], machineOf({ '/dev/shm': { type: TMPFS_MAGIC, freeBytes: MIN_FREE_BYTES } }))).toBe('/dev/shm');
  });
});

describe('memoryTmpdir', () => {
  it("is this machine's temporary directory or a writable tmpfs with room", () => {
    const dir = memoryTmpdir();
    accessSync(dir, constants.W_OK);
    const fs = statfsSync(dir);
    expect(dir === tmpdir() || (fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize >= MIN_FREE_BYTES)).toBe(true);
  });
});
