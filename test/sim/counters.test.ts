import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { counterWriter, startRootCounters } from '../../src/sim/counters.js';
import { tempMachine, untilMachine } from './helpers.js';

const STATS = 'sys/devices/jailhouse/cells/1/statistics';

describe('counters that move with time', () => {
  it('a counter writer writes the files whose figure moved, read-only as sysfs has them, and no others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crtos-counters-'));
    mkdirSync(join(dir, STATS), { recursive: true });
    const write = counterWriter(dir);
    await write({ [`${STATS}/vmexits_total`]: '5\n', [`${STATS}/vmexits_mmio`]: '2\n' });
    const inode = (name: string) => statSync(join(dir, STATS, name)).ino;
    const before = { total: inode('vmexits_total'), mmio: inode('vmexits_mmio') };
    await write({ [`${STATS}/vmexits_total`]: '9\n', [`${STATS}/vmexits_mmio`]: '2\n' });
    expect(readFileSync(join(dir, STATS, 'vmexits_total'), 'utf8')).toBe('9\n');
    // Replaced whole (a reader never sees half a figure); the unchanged one not touched.
    expect(inode('vmexits_total')).not.toBe(before.total);
    expect(inode('vmexits_mmio')).toBe(before.mmio);
    expect(statSync(join(dir, STATS, 'vmexits_total')).mode & 0o777).toBe(0o444);
    // A cell whose directory went: nothing written, nothing thrown.
    await write({ 'sys/devices/jailhouse/cells/7/statistics/vmexits_total': '1\n' });
  });

  it("the root cell's counters grow while the machine runs, and a change of the machine does not rewrite them", async () => {
    const m = await tempMachine();
    await m.bringUp('enabled');
    const file = join(m.dir, 'sys/devices/jailhouse/cells/0/statistics/cpu0/vmexits_total');
    const first = Number(readFileSync(file, 'utf8'));
    // A change of the machine renders the root's counters as they were at the enable.
    await m.runInProcess('jailhouse', ['cell', 'create', '/etc/jailhouse/nuttx.cell']);
    expect(Number(readFileSync(file, 'utf8'))).toBe(first);
    const stop = startRootCounters(m.dir);
    try {
      await untilMachine(m, 'the root cell to count more exits', () => Number(readFileSync(file, 'utf8')) > first, { files: ['sys/devices/jailhouse/cells/0/statistics/cpu0/vmexits_total'], timeoutMs: 5000 });
    } finally {
      stop();
    }
  });
});
