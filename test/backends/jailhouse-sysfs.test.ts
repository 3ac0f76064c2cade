/**
 * Jailhouse's sysfs tree as the backend reads it through the Host's raw reads: the pure parts on
 * literal text, the whole read on the simulated machine, with cells vanishing and files unreadable.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeConfig } from '../../src/jailhouse/index.js';
import { nuttxCellConfig } from '../../src/sim/index.js';
import { backendOf } from '../../src/backends/index.js';
import { cellIds, parseCell, readJailhouse } from '../../src/backends/jailhouse/sysfs.js';
import { simHost, type SimHost } from './helpers.js';
import { rejection } from '../helpers/rejections.js';

describe('the pure parts', () => {
  test('a cell from the text of its files, trailing newlines dropped', () => {
    expect(parseCell(2, ['nuttx\n', 'running/locked\n', '3-4\n', '\n'])).toEqual({ id: 2, name: 'nuttx', state: 'running/locked', cpusAssigned: [3, 4], cpusFailed: [] });
    expect(() => parseCell(2, ['nuttx\n', 'running\n', 'three\n', '\n'])).toThrow(/not a CPU list/);
  });

  test('cell ids are the numeric entries of cells/, in numeric order', () => {
    expect(cellIds(['10', '2', '0', 'uevent', '1a'])).toEqual([0, 2, 10]);
  });
});

describe('reading Jailhouse on the simulated machine', () => {
  let sim: SimHost | undefined;
  afterEach(async () => sim?.cleanup());
  const cells = (id: number, file = '') => join(sim!.machine.dir, 'sys/devices/jailhouse/cells', String(id), file);

  test('no module: not loaded; loaded: enabled and every cell with id, name, state and CPUs', async () => {
    sim = await simHost();
    expect(await readJailhouse(sim.host)).toEqual({ loaded: false, enabled: false, cells: [] });
    await sim.machine.bringUp('module');
    expect(await readJailhouse(sim.host)).toEqual({ loaded: true, enabled: false, cells: [] });
    await sim.machine.bringUp('created');
    expect(await readJailhouse(sim.host)).toEqual({
      loaded: true,
      enabled: true,
      cells: [
        { id: 0, name: 'RootCell', state: 'running', cpusAssigned: [0, 1, 2], cpusFailed: [] },
        { id: 1, name: 'nuttx', state: 'shut down', cpusAssigned: [3], cpusFailed: [] },
      ],
    });
    await sim.machine.bringUp('running');
    await sim.machine.failCell('nuttx');
    expect((await readJailhouse(sim.host)).cells[1]).toMatchObject({ state: 'failed', cpusFailed: [3] });
  });

  test('a cell whose files vanish while it is read (destroyed meanwhile) is left out', async () => {
    sim = await simHost();
    await sim.machine.bringUp('created');
    rmSync(cells(1, 'state'));
    expect((await readJailhouse(sim.host)).cells.map((c) => c.name)).toEqual(['RootCell']);
  });

  test('a malformed CPU list, a cell file unreadable or `enabled` missing: HOST_READ_FAILED of the jailhouse read', async () => {
    sim = await simHost();
    await sim.machine.bringUp('created');
    writeFileSync(cells(1, 'cpus_assigned_list'), 'three\n');
    expect(await rejection(readJailhouse(sim.host))).toMatchObject({ code: 'HOST_READ_FAILED', op: 'jailhouse', message: `jailhouse: cannot read ${cells(1)}: not a CPU list: "three\\n"` });
    writeFileSync(cells(1, 'cpus_assigned_list'), '3\n');
    // A directory where a file should be: EISDIR, not a cell that vanished.
    rmSync(cells(1, 'state'));
    mkdirSync(cells(1, 'state'));
    expect(await rejection(readJailhouse(sim.host))).toMatchObject({ code: 'HOST_READ_FAILED', op: 'jailhouse', message: expect.stringMatching(/^jailhouse: cannot read \S+\/cells\/1: EISDIR/) });
    rmSync(join(sim.machine.dir, 'sys/devices/jailhouse/enabled'));
    expect(await rejection(readJailhouse(sim.host))).toMatchObject({
      code: 'HOST_READ_FAILED',
      op: 'jailhouse',
      message: expect.stringMatching(/^jailhouse: cannot read \/sys\/devices\/jailhouse\/enabled: ENOENT: no such file or directory/),
    });
  });

  test('a create that succeeds without making its cell (architecture mismatch) is HOST_CELL_NOT_CREATED', async () => {
    sim = await simHost({ configRevision: 14 });
    await sim.machine.bringUp('enabled');
    const arm = nuttxCellConfig({ revision: 14, arch: 'arm64', cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } });
    writeFileSync(join(sim.machine.dir, 'etc/jailhouse/arm.cell'), encodeConfig(arm));
    const e = await rejection(backendOf('jailhouse').partitions!.create(sim.host, '/etc/jailhouse/arm.cell', 'nuttx'));
    const argv = ['jailhouse', 'cell', 'create', join(sim.machine.dir, 'etc/jailhouse/arm.cell')];
    expect(e).toMatchObject({
      code: 'HOST_CELL_NOT_CREATED',
      op: 'createCell',
      exitCode: 0,
      argv,
      message: `createCell: \`${argv.join(' ')}\` succeeded but no cell named "nuttx" appeared in /sys/devices/jailhouse/cells`,
      hint: expect.stringContaining("this machine's architecture"),
    });
    expect((await readJailhouse(sim.host)).cells.map((c) => c.name)).toEqual(['RootCell']);
  });
});
