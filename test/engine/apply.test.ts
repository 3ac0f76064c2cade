import { describe, expect, it } from 'vitest';
import { applyPlan, criticalPathPriorities, type ApplyHooks, type JobOutcome } from '../../src/engine/apply.js';
import type { Plan, PlanJob } from '../../src/engine/plan.js';

function job(index: number, unit: string, waitFor: number[] = [], type: PlanJob['type'] = 'start'): PlanJob {
  return { index, unit, type, reason: 'test', waitFor };
}

function plan(jobs: PlanJob[]): Plan {
  return { jobs, steps: [], blocked: new Map(), pending: new Map() };
}

/** Jobs that finish when the test says so; records start order and the most running at once. */
function controlled() {
  const started: string[] = [];
  const release = new Map<string, (o: JobOutcome) => void>();
  let running = 0;
  let peak = 0;
  const lockRunning = new Map<string, number>();
  const lockPeak = new Map<string, number>();
  const run = (j: PlanJob, group?: string) =>
    new Promise<JobOutcome>((resolve) => {
      started.push(j.unit);
      running++;
      peak = Math.max(peak, running);
      if (group) {
        lockRunning.set(group, (lockRunning.get(group) ?? 0) + 1);
        lockPeak.set(group, Math.max(lockPeak.get(group) ?? 0, lockRunning.get(group)!));
      }
      release.set(j.unit, (o) => {
        running--;
        if (group) lockRunning.set(group, lockRunning.get(group)! - 1);
        resolve(o);
      });
    });
  const finish = async (unit: string, result: JobOutcome['result'] = 'done') => {
    // Let applyPlan reach the job first.
    for (let i = 0; i < 20 && !release.has(unit); i++) await new Promise((r) => setImmediate(r));
    const r = release.get(unit);
    if (!r) throw new Error(`${unit} was not started`);
    release.delete(unit);
    r({ result });
    await new Promise((r2) => setImmediate(r2));
  };
  return { started, run, finish, peak: () => peak, lockPeak: (g: string) => lockPeak.get(g) ?? 0, isRunning: (u: string) => release.has(u) };
}

describe('criticalPathPriorities', () => {
  it('is a job\'s cost plus the costliest chain that waits for it', () => {
    // a(1) ← b(3) ← d(1); a ← c(1) ← d
    const jobs = [job(0, 'a'), job(1, 'b', [0]), job(2, 'c', [0]), job(3, 'd', [1, 2])];
    const cost = (j: PlanJob) => (j.unit === 'b' ? 3 : 1);
    const p = criticalPathPriorities(jobs, cost);
    expect([p.get(0), p.get(1), p.get(2), p.get(3)]).toEqual([5, 4, 2, 1]);
    // Unit costs: the number of jobs on the longest chain.
    expect(criticalPathPriorities(jobs).get(0)).toBe(3);
  });

  it('terminates on a cycle', () => {
    const p = criticalPathPriorities([job(0, 'a', [1]), job(1, 'b', [0])]);
    expect(p.size).toBe(2);
  });
});

describe('applyPlan', () => {
  it('under the limit, launches the ready job leading the longest chain first', async () => {
    const c = controlled();
    // x, y: nothing waits for them. cell: a loader (cost 2) waits for it, and it costs 3.
    const p = plan([job(0, 'x'), job(1, 'y'), job(2, 'cell'), job(3, 'loader', [2])]);
    const cost = (j: PlanJob) => ({ cell: 3, loader: 2 })[j.unit as 'cell'] ?? 1;
    const hooks: ApplyHooks = { run: (j) => c.run(j), requiresOf: () => [], maxParallel: 1, cost };
    const done = applyPlan(p, hooks);
    await c.finish('cell');
    await c.finish('loader');
    await c.finish('x');
    await c.finish('y');
    const outcomes = await done;
    expect(c.started).toEqual(['cell', 'loader', 'x', 'y']);
    expect([...outcomes.values()].every((o) => o.result === 'done')).toBe(true);
  });

  it('keeps plan order among equal priorities and runs everything ready when unlimited', async () => {
    const c = controlled();
    const p = plan([job(0, 'a'), job(1, 'b'), job(2, 'c')]);
    const done = applyPlan(p, { run: (j) => c.run(j), requiresOf: () => [] });
    await new Promise((r) => setImmediate(r));
    expect(c.started).toEqual(['a', 'b', 'c']);
    for (const u of ['a', 'b', 'c']) await c.finish(u);
    await done;
    expect(c.peak()).toBe(3);
  });

  it('runs at most maxPerLockGroup jobs of a lock group; other jobs fill the remaining places', async () => {
    const c = controlled();
    const cells = [0, 1, 2, 3, 4].map((i) => job(i, `c${i}`));
    const drivers = [5, 6, 7].map((i) => job(i, `d${i}`));
    const groupOf = (j: PlanJob) => (j.unit.startsWith('c') ? 'jailhouse' : undefined);
    const hooks: ApplyHooks = {
      run: (j) => c.run(j, groupOf(j)),
      requiresOf: () => [],
      maxParallel: 4,
      cost: (j) => (j.unit.startsWith('c') ? 3 : 1),
      lockGroup: groupOf,
      maxPerLockGroup: 2,
    };
    const done = applyPlan(plan([...cells, ...drivers]), hooks);
    await new Promise((r) => setImmediate(r));
    // Two cells (the group's limit), then drivers in the two places left, despite their lower priority.
    expect(c.started).toEqual(['c0', 'c1', 'd5', 'd6']);
    await c.finish('c0');
    // The freed place goes to the next cell, the group having room again.
    expect(c.started.at(-1)).toBe('c2');
    for (const u of ['c1', 'd5', 'd6', 'c2', 'c3', 'd7', 'c4']) await c.finish(u);
    const outcomes = await done;
    expect(outcomes.size).toBe(8);
    expect(c.lockPeak('jailhouse')).toBe(2);
    expect(c.peak()).toBeLessThanOrEqual(4);
  });

  it('launches every ready job at once, most urgent first: tool launches are not paced', async () => {
    const launched: string[] = [];
    const p = plan([job(0, 'x'), job(1, 'cell'), job(2, 'image'), job(3, 'y')]);
    const cost = (j: PlanJob) => ({ cell: 3, image: 0 })[j.unit as 'cell'] ?? 1;
    const done = applyPlan(p, {
      run: async (j) => {
        launched.push(j.unit);
        return { result: 'done' };
      },
      requiresOf: () => [],
      cost,
    });
    expect(launched).toEqual(['cell', 'x', 'y', 'image']);
    await done;
  });

  it('a start whose required unit failed is not run, whatever its priority', async () => {
    const c = controlled();
    const p = plan([job(0, 'cell'), job(1, 'loader', [0]), job(2, 'other')]);
    const done = applyPlan(p, { run: (j) => c.run(j), requiresOf: (u) => (u === 'loader' ? ['cell'] : []), maxParallel: 1, cost: (j) => (j.unit === 'cell' ? 3 : 1) });
    await c.finish('cell', 'failed');
    await c.finish('other');
    const outcomes = await done;
    expect(outcomes.get(1)).toMatchObject({ result: 'dependency', error: { code: 'ENGINE_DEPENDENCY' } });
    expect(c.started).toEqual(['cell', 'other']);
  });

  it('reports jobs caught in an ordering cycle instead of waiting forever', async () => {
    const outcomes = await applyPlan(plan([job(0, 'a', [1]), job(1, 'b', [0])]), { run: async () => ({ result: 'done' }), requiresOf: () => [] });
    expect([...outcomes.values()].map((o) => o.result)).toEqual(['canceled', 'canceled']);
  });
});
