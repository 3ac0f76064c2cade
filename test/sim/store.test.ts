import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paths, syncTree, withLock } from '../../src/sim/store.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crtos-store-'));
  mkdirSync(join(dir, '.sim'));
  return dir;
}

describe('machine directory store', () => {
  it('syncTree writes changes, removes stale files and the directories they leave empty', () => {
    const dir = tempDir();
    const first = { 'sys/devices/jailhouse/cells': null, 'sys/devices/jailhouse/cells/1/name': 'a\n', 'sys/devices/jailhouse/cells/1/statistics/cpu3/x': '0\n', 'proc/modules': 'm\n' };
    syncTree(dir, {}, first);
    expect(readFileSync(join(dir, 'sys/devices/jailhouse/cells/1/name'), 'utf8')).toBe('a\n');
    const second = { 'sys/devices/jailhouse/cells': null, 'proc/modules': 'n\n' };
    syncTree(dir, first, second);
    expect(existsSync(join(dir, 'sys/devices/jailhouse/cells/1'))).toBe(false);
    expect(readdirSync(join(dir, 'sys/devices/jailhouse/cells'))).toEqual([]);
    expect(readFileSync(join(dir, 'proc/modules'), 'utf8')).toBe('n\n');
    // No temporary files are left behind.
    expect(readdirSync(join(dir, 'proc'))).toEqual(['modules']);
  });

  it('withLock takes over a lock whose owner died', () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    mkdirSync(paths.lock(dir, 'state'));
    writeFileSync(join(paths.lock(dir, 'state'), 'owner'), dead.stdout);
    expect(withLock(dir, 'state', () => 42)).toBe(42);
    expect(existsSync(paths.lock(dir, 'state'))).toBe(false);
  });

  it('withLock releases the lock when its function throws', () => {
    const dir = tempDir();
    expect(() => withLock(dir, 'state', () => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(existsSync(paths.lock(dir, 'state'))).toBe(false);
  });
});
