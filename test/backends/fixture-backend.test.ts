/**
 * A backend is one folder plus its registry line: the Files backend exists only in the test tree
 * (test/fixtures/backend-files/), its machine state two files, and a Hypervisor of `type: files`
 * with a cell on it goes through everything the built-in backends go through — `crtosctl validate`
 * (its own fields in the Hypervisor schema), apply on the simulated machine (enable, then the
 * cell's create, load and start through the port), its D-Bus properties as another client reads
 * them (busctl), `crtosctl status`, a reload in place, a failure its poll notices, and the stop
 * of the cell and the hypervisor when their file goes. crtosctl runs in this process (main()),
 * since only this process has the backend registered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../fixtures/backend-files/register.js';
import { FILES_DIR, operations } from '../fixtures/backend-files/backend.js';
import { ctlInProcess } from '../cli/helpers/in-process.js';
import { startDbusService, type DbusServiceHandle } from '../../src/dbus/index.js';
import type { Manager } from '../../src/engine/manager.js';
import { makeFixture, untilUnit, type Fixture } from '../engine/harness.js';
import { startPrivateBus, type PrivateBus } from '../dbus/helpers/private-bus.js';
import { run } from '../dbus/helpers/run.js';

const UNITS = join(import.meta.dirname, '../fixtures/backend-files/units');

const ctl = ctlInProcess;

let f: Fixture;
let bus: PrivateBus;
let manager: Manager;
let service: DbusServiceHandle;

/** A machine file of the simulated machine, as text. */
const machineFile = (path: string): string => readFileSync(join(f.machine.dir, path), 'utf8');
const cellsOnMachine = () => JSON.parse(machineFile(`${FILES_DIR}/cells.json`)) as { id: number; name: string; state: string; cpus: number[] }[];

beforeAll(async () => {
  f = await makeFixture({ units: UNITS });
  mkdirSync(join(f.machine.dir, 'etc/files-hv'), { recursive: true });
  writeFileSync(join(f.machine.dir, 'etc/files-hv/rt0.json'), JSON.stringify({ name: 'rt0', cpus: [2, 3] }));
  bus = await startPrivateBus();
});
afterAll(async () => {
  await service?.close();
  await bus?.stop();
  await f?.cleanup();
});

describe('a backend that exists only in the test tree', () => {
  it('is a type: of the Hypervisor schema for crtosctl validate, with its own fields', async () => {
    const text = f.readUnit('files.yaml');
    f.writeUnit('files.yaml', text.replace('type: files', 'type: files\ntimeout: soon'));
    const bad = await ctl('validate', '--root', f.machine.dir, f.unitsDir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/files\.yaml:5:\d+: error/);
    expect(bad.stderr).toContain('timeout');

    f.writeUnit('files.yaml', text);
    const good = await ctl('validate', '--root', f.machine.dir, f.unitsDir);
    expect(good.stderr).toBe('');
    expect(good.stdout).toMatch(/^2 units valid/);
    expect(good.code).toBe(0);
  });

  it('is enabled, and runs its cell through the port: create, load, start', async () => {
    manager = f.manager();
    service = await startDbusService(manager, { busAddress: bus.address });
    await manager.start();
    await untilUnit(manager, 'rt0.cell', (s) => s.activeState === 'active');
    expect(operations).toEqual(['enable', 'create rt0', 'load rt0', 'start rt0']);
    expect(machineFile(`${FILES_DIR}/enabled`)).toBe('1\n');
    expect(cellsOnMachine()).toEqual([{ id: 1, name: 'rt0', state: 'running', cpus: [2, 3] }]);
    // Both record the backend they run on, so a stop after their files are gone acts through it.
    const records = JSON.parse(readFileSync(join(f.stateDir, 'state.json'), 'utf8')) as unknown;
    expect(JSON.stringify(records)).toMatch(/"rt0\.cell".*"hypervisorType":"files"/s);
    expect(JSON.stringify(records)).toMatch(/"files\.hypervisor".*"hypervisorType":"files"/s);
  });

  it('shows the hypervisor and the cell on D-Bus to a client that is not ours', async () => {
    const get = (unit: string, iface: string, prop: string) => run('busctl', [`--address=${bus.address}`, 'get-property', 'org.crtos.Manager1', `/org/crtos/unit/${unit}`, iface, prop]);
    expect((await get('files_2ehypervisor', 'org.crtos.Hypervisor1', 'Type')).stdout).toBe('s "files"\n');
    expect((await get('files_2ehypervisor', 'org.crtos.Hypervisor1', 'Enabled')).stdout).toBe('b true\n');
    expect((await get('rt0_2ecell', 'org.crtos.Cell1', 'CellId')).stdout).toBe('i 1\n');
    expect((await get('rt0_2ecell', 'org.crtos.Cell1', 'JailhouseState')).stdout).toBe('s "running"\n');
    expect((await get('rt0_2ecell', 'org.crtos.Cell1', 'CPUs')).stdout).toBe('au 2 2 3\n');
  });

  it('is shown by crtosctl status', async () => {
    const hv = await ctl('--bus', bus.address, 'status', 'files.hypervisor');
    expect(hv.code).toBe(0);
    expect(hv.stdout).toMatch(/^ +Active: active \(up\)/m);
    expect(hv.stdout).toMatch(/^ +Type: files$/m);
    expect(hv.stdout).toMatch(/^ +Enabled: yes$/m);
    const cell = await ctl('--bus', bus.address, 'status', 'rt0.cell');
    expect(cell.code).toBe(0);
    expect(cell.stdout).toMatch(/^ +Active: active \(running\)/m);
    expect(cell.stdout).toMatch(/^ +Cell ID: 1$/m);
    expect(cell.stdout).toMatch(/^ +CPUs: 2-3$/m);
  });

  it('reloads the cell in place when what it loads changes: shutdown, load, start', async () => {
    f.writeUnit('files.yaml', f.readUnit('files.yaml').replace('console=ttyS0', 'console=ttyS1'));
    const plan = await ctl('--bus', bus.address, 'plan');
    expect(plan.stdout).toMatch(/^ +reload +rt0\.cell +field load changed$/m);
    operations.length = 0;
    expect((await ctl('--bus', bus.address, 'reload')).code).toBe(0);
    expect(operations).toEqual(['shutdown rt0', 'load rt0', 'start rt0']);
    expect(cellsOnMachine()).toEqual([{ id: 1, name: 'rt0', state: 'running', cpus: [2, 3] }]);
  });

  it('notices through its poll a cell that fails behind crtosd, and reports it in its own words', async () => {
    writeFileSync(join(f.machine.dir, FILES_DIR, 'cells.json'), JSON.stringify([{ id: 1, name: 'rt0', state: 'failed', cpus: [2, 3] }]));
    const failed = await untilUnit(manager, 'rt0.cell', (s) => s.activeState === 'failed');
    expect(failed.lastError).toMatchObject({ code: 'ENGINE_CELL_FAILED', message: 'Files reports the cell failed, failed CPUs: 2,3', hint: `see ${FILES_DIR}/cells.json` });
  });

  it('destroys the cell, then disables, when their file goes', async () => {
    operations.length = 0;
    rmSync(join(f.unitsDir, 'files.yaml'));
    expect((await ctl('--bus', bus.address, 'reload')).code).toBe(0);
    expect(operations).toEqual(['destroy rt0', 'disable']);
    expect(cellsOnMachine()).toEqual([]);
    expect(machineFile(`${FILES_DIR}/enabled`)).toBe('0\n');
    expect(manager.getUnit('rt0.cell')).toBeUndefined();
    expect(manager.getUnit('files.hypervisor')).toBeUndefined();
  });
});
