/**
 * The timeline across a daemon restart, through the Manager on the simulated machine: the units it
 * finds running keep the timestamps of their bring-up and its operations, as the saved history
 * has them (src/engine/history.ts); what the first daemon did is not stamped again as new.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ALL_ACTIVE, makeFixture, settle, states, type Fixture } from './harness.js';
import type { Manager } from '../../src/engine/manager.js';

let f: Fixture;
let m: Manager;
beforeAll(async () => {
  f = await makeFixture();
  m = f.manager();
  await m.start();
  await settle(m);
  expect(states(m)).toEqual(ALL_ACTIVE);
});
afterAll(async () => f.cleanup());

test('a restarted daemon shows the bring-up of the units it found running as the first daemon timed it', async () => {
  const cell = m.getUnit('nuttx.cell')!;
  const ops = m.timeline().filter((o) => o.unit === 'nuttx.cell');
  expect(ops.map((o) => o.operation)).toEqual(expect.arrayContaining(['createCell', 'loadCell', 'startCell']));
  expect(ops.every((o) => o.result === 'done' && o.end >= o.start && o.start >= cell.timestamps.monotonic.inactiveExit && o.end <= cell.timestamps.monotonic.activeEnter)).toBe(true);
  const before = Object.fromEntries(m.listUnits().map((u) => [u.id, u.timestamps]));
  const timeline = m.timeline();
  m.close();

  const again = f.manager();
  await again.start();
  await settle(again);
  expect(states(again)).toEqual(ALL_ACTIVE);
  expect(Object.fromEntries(again.listUnits().map((u) => [u.id, u.timestamps]))).toEqual(before);
  expect(again.timeline()).toEqual(timeline);
  m = again;
});
