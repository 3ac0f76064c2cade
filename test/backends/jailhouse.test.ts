/**
 * The Jailhouse backend on the simulated machine, through the port only: what it observes, that
 * enable, disable and the cell operations act and resume, what the supervisor's poll notices, and
 * when the hypervisor counts as between two states.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backendOf, type BackendStatus, type HypervisorUnit } from '../../src/backends/index.js';
import { isErrno } from '../../src/kinds/behaviour-common.js';
import type { Target } from '../../src/kinds/behaviour.js';
import type { UnitSet } from '../../src/units/types.js';
import { describeContext, exampleSet, kindContext, simHost, stopContext, type SimHost } from './helpers.js';
import { rejection } from '../helpers/rejections.js';

const jailhouse = backendOf('jailhouse');
const cells = jailhouse.partitions!;

describe('the Jailhouse backend on the simulated machine', () => {
  let sim: SimHost;
  let set: UnitSet;
  let hv: HypervisorUnit;
  let target: Target;
  const status = () => jailhouse.observe!(sim.host);
  const partition = async (name: string) => (await status()).partitions.find((p) => p.name === name);

  beforeAll(async () => {
    sim = await simHost();
    // The hand-written example: its system configuration and cell are .cell files the tests below
    // give the port by path (the generated ones are test/backends/jailhouse/example.test.ts's).
    set = await exampleSet('crtos-handwritten');
    hv = set.units.get('jailhouse.hypervisor') as HypervisorUnit;
    target = { id: hv.id, kind: hv.kind, unit: hv, facts: { hypervisorType: 'jailhouse' } };
    await sim.machine.bringUp('module');
  });
  afterAll(async () => sim.cleanup());

  test('serializes its jobs on the driver lock and runs cells', () => {
    expect(jailhouse.lockGroup).toBe('jailhouse');
    expect(jailhouse.definition.title).toBe('Jailhouse');
    expect(cells.commands.create).toBe('jailhouse cell create');
  });

  test('a loaded but disabled hypervisor: not enabled, no partitions, the unit inactive', async () => {
    const s = await status();
    expect(s).toMatchObject({ enabled: false, partitions: [] });
    expect(jailhouse.hypervisor.observe(target, { backends: new Map([['jailhouse', s]]), modules: new Map() })).toEqual({ state: 'inactive', subState: 'dead', enabled: false });
  });

  test('enable takes the system configuration once; a second enable finds it done', async () => {
    await jailhouse.hypervisor.enable(hv, kindContext(sim.host, set));
    await jailhouse.hypervisor.enable(hv, kindContext(sim.host, set));
    expect(await sim.count('jailhouse enable')).toBe(1);
    const s = await status();
    expect(s.enabled).toBe(true);
    // The root cell is the hypervisor's own, not a partition.
    expect(s.partitions).toEqual([]);
    expect(jailhouse.hypervisor.observe(target, { backends: new Map([['jailhouse', s]]), modules: new Map() })).toEqual({ state: 'active', subState: 'enabled', enabled: true });
    expect(jailhouse.hypervisor.activeSubState).toBe('enabled');
  });

  test("describe folds the system configuration's bytes into `system`, and reads a cell's name and CPUs from its .cell file", async () => {
    const ctx = describeContext(set, sim.host);
    const described = await jailhouse.describe!(hv, ctx);
    expect(described.fields?.system).toMatchObject({ path: '/etc/jailhouse/sysconfig.cell', content: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const cell = await cells.describe(set.units.get('nuttx.cell')!, hv, hv.id, ctx);
    expect(cell.facts).toEqual({ cellName: 'nuttx', cpus: [3] });
    expect(cell.problem).toBeUndefined();
  });

  test('create, load and start bring a cell to running; a second create says EEXIST', async () => {
    await cells.create(sim.host, '/etc/jailhouse/nuttx.cell', 'nuttx');
    expect(isErrno(await rejection(cells.create(sim.host, '/etc/jailhouse/nuttx.cell', 'nuttx')), 'EEXIST')).toBe(true);
    expect(await partition('nuttx')).toMatchObject({ state: 'shut down', phase: 'shut-down', cpus: [3], failedCpus: [] });
    await cells.load(sim.host, 'nuttx', [{ file: '/opt/crtos/nuttx.bin', address: 0n }]);
    await cells.start(sim.host, 'nuttx');
    expect(await partition('nuttx')).toMatchObject({ name: 'nuttx', state: 'running', phase: 'running', cpus: [3] });
  });

  test('the poll notices a cell that fails, and nothing while nothing changes', async () => {
    const seen = await status();
    expect(await jailhouse.changed!(sim.host, seen)).toBe(false);
    await sim.machine.failCell('nuttx');
    expect(await jailhouse.changed!(sim.host, seen)).toBe(true);
    expect(await partition('nuttx')).toMatchObject({ state: 'failed', phase: 'failed' });
  });

  test('shutdown and start again; a locked cell is running too', async () => {
    await cells.shutdown(sim.host, 'nuttx');
    expect(await partition('nuttx')).toMatchObject({ phase: 'shut-down' });
    await cells.start(sim.host, 'nuttx');
    await sim.machine.setCellState('nuttx', 'running/locked');
    expect(await partition('nuttx')).toMatchObject({ state: 'running/locked', phase: 'running' });
    await sim.machine.setCellState('nuttx', 'running');
  });

  test('a cell crtosd runs that is gone while the hypervisor is enabled is a transition; one present is not', async () => {
    const s = await status();
    expect(jailhouse.transition!(s, ['nuttx'])).toBeUndefined();
    expect(jailhouse.transition!(s, ['other'])).toMatchObject({ why: expect.stringContaining('cell other is gone'), waitMs: 2000 });
    const disabling: BackendStatus = { ...s, cells: [] } as BackendStatus;
    expect(jailhouse.transition!(disabling, [])).toMatchObject({ why: expect.stringContaining('root cell is gone') });
    expect(jailhouse.transition!({ ...s, enabled: false }, ['other'])).toBeUndefined();
  });

  test('destroy takes the cell away; a second destroy says ENOENT', async () => {
    await cells.destroy(sim.host, 'nuttx');
    expect(await partition('nuttx')).toBeUndefined();
    expect(isErrno(await rejection(cells.destroy(sim.host, 'nuttx')), 'ENOENT')).toBe(true);
  });

  test('disable takes the hypervisor down once, the poll notices it, and a second disable finds it done', async () => {
    const seen = await status();
    await jailhouse.hypervisor.disable(target, stopContext(sim.host));
    await jailhouse.hypervisor.disable(target, stopContext(sim.host));
    expect(await sim.count('jailhouse disable')).toBe(1);
    expect((await status()).enabled).toBe(false);
    expect(await jailhouse.changed!(sim.host, seen)).toBe(true);
  });
});
