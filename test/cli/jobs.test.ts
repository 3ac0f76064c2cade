// start, stop and restart (src/cli/verbs/{start,stop,restart}.ts over src/cli/jobs.ts).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CrtosClient } from '../../src/dbus/client.js';
import { eventsOf, waitFor } from '../helpers/wait-for.js';
import { startHarness, type Harness } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(undefined, { failing: ['hello.loader'], jobMs: 10 });
});
afterAll(() => h?.stop());

describe('crtosctl start/stop/restart', () => {
  it('starts units, waits for the jobs and exits 0 when all are done', async () => {
    const r = await h.ctl(['start', 'nuttx.cell', 'crtos-link.network']);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(h.manager.getUnit('nuttx.cell')?.activeState).toBe('active');
    expect(h.manager.getUnit('crtos-link.network')?.activeState).toBe('active');
  });

  it('reports a failed job and exits 1', async () => {
    const r = await h.ctl(['start', 'hello.loader']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Job for hello.loader failed (result: failed).\nSee "crtosctl status hello.loader" for details.\n');
  });

  it('queues nothing when a unit is unknown and exits 5, as systemctl (LSB: not installed)', async () => {
    const before = h.manager.calls.length;
    const r = await h.ctl(['stop', 'nuttx.cell', 'nope.cell']);
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('Unit nope.cell not found; nothing was stopped.\n');
    expect(h.manager.calls.length).toBe(before);
  });

  it('prints job outcomes as JSON', async () => {
    const r = await h.ctl(['restart', '--json', 'nuttx.cell']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ unit: 'nuttx.cell', type: 'restart', jobId: expect.any(Number), result: 'done' }]);
    const stop = await h.ctl(['stop', 'nuttx.cell', '--json']);
    expect(JSON.parse(stop.stdout)[0]).toMatchObject({ unit: 'nuttx.cell', type: 'stop', result: 'done' });
    expect(h.manager.getUnit('nuttx.cell')?.activeState).toBe('inactive');
  });

  it('returns at once with --no-block, naming the queued job', async () => {
    const r = await h.ctl(['start', '--no-block', 'shadow.driver']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Queued start of shadow\.driver as \/org\/crtos\/job\/\d+\n$/);
  });

  it('needs at least one unit', async () => {
    const r = await h.ctl(['start']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('which unit?');
  });
});

describe('when crtosd goes away', () => {
  it('stops waiting for a job and says so', async () => {
    const g = await startHarness(undefined, { jobMs: 5000 });
    const enqueue = vi.spyOn(CrtosClient.prototype, 'enqueue');
    try {
      const pending = g.ctl(['start', 'nuttx.cell']);
      // The service has queued the job; once crtosctl has its path it waits for the job's end
      // (its await of enqueue came before ours), and only then is the service taken off the bus.
      const queued = await waitFor('the service to queue the job', () => enqueue.mock.results[0] && { path: enqueue.mock.results[0].value as Promise<string> }, {
        sources: [eventsOf(g.manager, 'jobNew')],
        timeoutMs: 10_000,
        detail: () => `calls: ${g.manager.calls.join(', ')}`,
      });
      await queued.path;
      await g.stopService();
      const r = await pending;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error[API_NO_DAEMON]: crtosd left the bus while a job was running');
    } finally {
      enqueue.mockRestore();
      await g.stop();
    }
  });
});
