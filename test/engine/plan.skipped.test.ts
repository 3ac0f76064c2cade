/** The planner and units that do not run on this machine (their conditions, or those of a unit they require). */
import { describe as group, expect, test } from 'vitest';
import { plan } from '../../src/engine/plan.js';
import { describe, exampleFiles, observedAll, recordsOf, setFrom } from './plan-fixtures.js';

const set = setFrom(exampleFiles());
const descs = describe(set);
const CONDITION = 'condition failed: board "*i.MX8M Plus*" (board is "QEMU virt")';
const skipped = new Map([
  ['nuttx.cell', { text: CONDITION }],
  ['hello.loader', { text: 'skipped: requires nuttx.cell, whose condition failed' }],
]);

group('plan with skipped units', () => {
  test('starts everything else and never a skipped unit; nothing is blocked (no failure)', () => {
    const p = plan({ set, descriptions: descs, records: new Map(), observed: observedAll(set, 'inactive'), holds: new Map(), skipped });
    const started = p.jobs.filter((j) => j.type === 'start').map((j) => j.unit);
    expect(started).not.toContain('nuttx.cell');
    expect(started).not.toContain('hello.loader');
    expect(started).toContain('jailhouse.hypervisor');
    expect(p.blocked.size).toBe(0);
  });

  test('stops skipped units that run, dependents first, saying why, and leaves the rest as it is', () => {
    const p = plan({ set, descriptions: descs, records: recordsOf(set, descs), observed: observedAll(set, 'active'), holds: new Map(), skipped });
    expect(p.jobs.map((j) => `${j.type} ${j.unit}: ${j.reason}`).sort()).toEqual([`stop hello.loader: skipped: requires nuttx.cell, whose condition failed`, `stop nuttx.cell: ${CONDITION}`]);
    const stopHello = p.jobs.find((j) => j.unit === 'hello.loader')!;
    const stopCell = p.jobs.find((j) => j.unit === 'nuttx.cell')!;
    expect(stopCell.waitFor).toContain(stopHello.index);
    expect(p.jobs.every((j) => j.final)).toBe(true);
    expect(p.steps).toContainEqual({ unit: 'nuttx.cell', action: 'stop', reason: CONDITION });
  });
});
