import { describe, expect, it } from 'vitest';
import { changedProperties, unitListEntry, unitProperties } from '../../src/dbus/properties.js';
import { makeUnit } from './helpers/fake-manager.js';

const cell = makeUnit('nuttx.cell', { kind: 'Cell', cellId: 1, jailhouseState: 'running', cpus: [2, 3], failedCpus: [], configPath: '/c' });

describe('unit properties', () => {
  it('puts the kind facts on the kind interface and times in µs as bigint', () => {
    const p = unitProperties(cell);
    expect(p['org.crtos.Cell1']).toEqual({ CellId: 1, JailhouseState: 'running', CPUs: [2, 3], FailedCPUs: [], ConfigPath: '/c' });
    expect(p['org.crtos.Unit1']!.StateChangeTimestamp).toBe(1_700_000_000_000_000n);
    expect(p['org.crtos.Unit1']!.Job).toEqual([0, '/']);
    expect(p['org.crtos.Unit1']!.LastError).toEqual({});
  });

  it('lists a unit as systemd does, with its job', () => {
    const withJob = { ...cell, job: { id: 5, unit: 'nuttx.cell', type: 'start' as const, state: 'running' as const } };
    expect(unitListEntry(withJob)).toEqual(['nuttx.cell', 'The nuttx.cell unit', 'loaded', 'inactive', 'dead', '', '/org/crtos/unit/nuttx_2ecell', 5, 'start', '/org/crtos/job/5']);
  });

  it('reports only what changed', () => {
    const before = unitProperties(cell)['org.crtos.Unit1']!;
    const after = unitProperties({ ...cell, activeState: 'active', subState: 'running' })['org.crtos.Unit1']!;
    expect(Object.keys(changedProperties(before, after))).toEqual(['ActiveState', 'SubState']);
    expect(Object.keys(changedProperties(undefined, after))).toContain('Id');
  });
});
