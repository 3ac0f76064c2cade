import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendLog, paths, readLogSync, syncTree, timingFields, withLock } from '../../src/sim/store.js';

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

  it('syncTree keeps a directory the new tree still has, when the last file under it goes', () => {
    const dir = tempDir();
    const first = { 'sys/bus/pci/devices': null, 'sys/bus/pci/devices/0000:00:0e.0/class': '0xff0002\n' };
    syncTree(dir, {}, first);
    syncTree(dir, first, { 'sys/bus/pci/devices': null });
    expect(readdirSync(join(dir, 'sys/bus/pci/devices'))).toEqual([]);
    // Without it in the tree, the emptied parents go too.
    syncTree(dir, {}, first);
    syncTree(dir, first, {});
    expect(existsSync(join(dir, 'sys/bus'))).toBe(false);
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

  it('timing fields: durations follow from the phase times; without a clock only the end', () => {
    expect(timingFields({ start: 1000, workStart: 1060, lockAcquired: 1100.5 }, 1150.5)).toEqual({
      start: 1000,
      workStart: 1060,
      lockAcquired: 1100.5,
      end: 1150.5,
      startupMs: 60,
      lockWaitMs: 40.5,
      lockedMs: 50,
      durationMs: 150.5,
    });
    expect(timingFields(undefined, 5)).toEqual({ end: 5 });
    // A work start never lies after the end (a usage error logged before any work).
    expect(timingFields({ start: 10, workStart: 30 }, 20)).toMatchObject({ workStart: 20, startupMs: 10, durationMs: 10 });
  });

  it('appendLog keeps the existing fields and adds the timing ones', () => {
    const dir = tempDir();
    const start = performance.timeOrigin + performance.now();
    appendLog(dir, { op: 'insmod', args: ['x.ko'], result: 'ok', exitCode: 0 }, { start: start - 10, workStart: start - 9 });
    const [e] = readLogSync(dir);
    expect(e).toMatchObject({ op: 'insmod', args: ['x.ko'], result: 'ok', exitCode: 0, start: expect.closeTo(start - 10, 2), startupMs: expect.closeTo(1, 2) });
    expect(Math.abs(Date.parse(e!.time) - e!.end!)).toBeLessThan(1);
    expect(e!.end!).toBeGreaterThanOrEqual(e!.workStart!);
  });
});
