/** crtosctl list-jobs over the bus: jobs queued or running, as systemctl lists them. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { crtosUnits } from '../../dbus/helpers/fake-manager.js';

let h: Harness;
beforeAll(async () => {
  // Jobs that take a minute: they are there to be listed.
  h = await startHarness(crtosUnits(), { jobMs: 60_000 });
});
afterAll(() => h?.stop());

describe('crtosctl list-jobs', () => {
  test('no jobs: "No jobs running."', async () => {
    expect(await h.ctl(['list-jobs'])).toMatchObject({ code: 0, stdout: 'No jobs running.\n' });
  });

  test('queued jobs in a table with a count; a pattern picks units; --json', async () => {
    expect((await h.ctl(['start', '--no-block', 'nuttx.cell', 'shadow.driver'])).code).toBe(0);
    const r = await h.ctl(['list-jobs']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('JOB UNIT          TYPE  STATE\n1   nuttx.cell    start waiting\n2   shadow.driver start waiting\n\n2 jobs listed.\n');
    expect((await h.ctl(['list-jobs', '--no-legend', '*.cell'])).stdout).toBe('1 nuttx.cell start waiting\n');
    expect(JSON.parse((await h.ctl(['list-jobs', '--json', 'shadow.*'])).stdout)).toEqual([{ id: 2, unit: 'shadow.driver', type: 'start', state: 'waiting' }]);
  });
});
