/**
 * apply(): runs a plan's jobs, each as soon as the jobs it waits for are finished, all ready jobs
 * at once up to a limit. A start or reload whose required unit failed to come up is not run
 * (result `dependency`); a failed `wants` does not matter. A start whose own stop failed is not
 * run either.
 *
 * Under the limit, ready jobs go in order of the longest chain of work they lead (their own cost
 * plus the costliest chain of jobs waiting on them), so the critical path is never behind a job
 * nothing waits for: list scheduling by critical path. Jobs that run tools may also be paced
 * (a burst, then one per interval), so that a crowd of tools starting together does not delay the
 * most urgent one.
 */
import { problem, type Problem } from '../errors/problem.js';
import type { JobResult, UnitResult } from './manager-api.js';
import type { Plan, PlanJob } from './plan.js';

export interface JobOutcome {
  result: JobResult;
  unitResult?: UnitResult;
  error?: Problem;
  /**
   * The job failed, but the unit runs on as it did before it (nothing was touched, or the last
   * good configuration was put back): the new description is refused, not retried by itself.
   */
  keptRunning?: boolean;
}

export interface ApplyHooks {
  run(job: PlanJob): Promise<JobOutcome>;
  /** Direct requirements of a unit (requires). */
  requiresOf(unit: string): readonly string[];
  /** Called when a job is skipped without running (dependency), before onDone. */
  onDone?(job: PlanJob, outcome: JobOutcome): void;
  onStart?(job: PlanJob): void;
  /** At most this many jobs run at once (each may spawn a tool); default unlimited. */
  maxParallel?: number;
  /** Estimated cost of a job (e.g. its tool runs), for the launch order; default 1. */
  cost?(job: PlanJob): number;
  /**
   * Jobs that serialize on one shared lock (the Jailhouse driver's): the group they belong to.
   * More of them at once than the lock can keep busy would only wait at the lock, holding places
   * under maxParallel that other work could use.
   */
  lockGroup?(job: PlanJob): string | undefined;
  /** At most this many jobs of one lock group run at once; default unlimited. */
  maxPerLockGroup?: number;
}

/** Per job index: its cost plus the costliest chain of jobs that wait for it. */
export function criticalPathPriorities(jobs: readonly PlanJob[], cost: (job: PlanJob) => number = () => 1): Map<number, number> {
  const waiters = new Map<number, number[]>();
  for (const job of jobs) {
    for (const w of job.waitFor) {
      const list = waiters.get(w);
      if (list) list.push(job.index);
      else waiters.set(w, [job.index]);
    }
  }
  const byIndex = new Map(jobs.map((j) => [j.index, j]));
  const priority = new Map<number, number>();
  const visiting = new Set<number>();
  const visit = (index: number): number => {
    const known = priority.get(index);
    if (known !== undefined) return known;
    const job = byIndex.get(index);
    if (!job || visiting.has(index)) return 0; // a cycle is reported by applyPlan, not here
    visiting.add(index);
    let tail = 0;
    for (const w of waiters.get(index) ?? []) tail = Math.max(tail, visit(w));
    visiting.delete(index);
    const p = cost(job) + tail;
    priority.set(index, p);
    return p;
  };
  for (const job of jobs) visit(job.index);
  return priority;
}

export async function applyPlan(plan: Plan, hooks: ApplyHooks): Promise<Map<number, JobOutcome>> {
  const outcomes = new Map<number, JobOutcome>();
  /** Units whose start or reload in this plan did not succeed. */
  const failedUp = new Set<string>();
  const pending = new Set(plan.jobs);
  const running = new Map<number, Promise<void>>();

  const groupLimit = hooks.maxPerLockGroup ?? Infinity;
  const inGroup = new Map<string, number>();
  const groupOf = new Map<number, string>();
  for (const job of plan.jobs) {
    const g = hooks.lockGroup?.(job);
    if (g !== undefined) groupOf.set(job.index, g);
  }
  const groupFull = (job: PlanJob) => {
    const g = groupOf.get(job.index);
    return g !== undefined && (inGroup.get(g) ?? 0) >= groupLimit;
  };
  const finish = (job: PlanJob, outcome: JobOutcome) => {
    outcomes.set(job.index, outcome);
    if ((job.type === 'start' || job.type === 'reload') && outcome.result !== 'done') failedUp.add(job.unit);
    hooks.onDone?.(job, outcome);
  };

  const launch = (job: PlanJob) => {
    pending.delete(job);
    if (job.type === 'start' || job.type === 'reload') {
      const failedReq = hooks.requiresOf(job.unit).find((r) => failedUp.has(r));
      if (failedReq !== undefined) {
        finish(job, {
          result: 'dependency',
          unitResult: 'dependency',
          error: problem('ENGINE_DEPENDENCY', `not started: ${failedReq}, which it requires, failed`, { unit: job.unit }),
        });
        return;
      }
      if (job.afterOwnStop !== undefined && outcomes.get(job.afterOwnStop)?.result !== 'done') {
        finish(job, {
          result: 'failed',
          unitResult: 'resources',
          error: problem('ENGINE_PREVIOUS_NOT_STOPPED', 'not started again: stopping its previous instance failed', { unit: job.unit }),
        });
        return;
      }
    }
    hooks.onStart?.(job);
    const group = groupOf.get(job.index);
    if (group !== undefined) inGroup.set(group, (inGroup.get(group) ?? 0) + 1);
    const p = hooks
      .run(job)
      .catch((e: unknown): JobOutcome => ({ result: 'failed', unitResult: 'resources', error: problem('ENGINE_INTERNAL', String(e instanceof Error ? e.stack : e), { unit: job.unit }) }))
      .then((outcome) => {
        running.delete(job.index);
        if (group !== undefined) inGroup.set(group, (inGroup.get(group) ?? 1) - 1);
        finish(job, outcome);
      });
    running.set(job.index, p);
  };

  const limit = hooks.maxParallel ?? Infinity;
  const priority = criticalPathPriorities(plan.jobs, hooks.cost);
  const first = (a: PlanJob, b: PlanJob) => (priority.get(b.index) ?? 0) - (priority.get(a.index) ?? 0) || a.index - b.index;
  for (;;) {
    let launched = true;
    while (launched && running.size < limit) {
      launched = false;
      const ready = [...pending].filter((job) => job.waitFor.every((w) => outcomes.has(w))).sort(first);
      for (const job of ready) {
        if (running.size >= limit) break;
        if (groupFull(job)) continue;
        launch(job);
        launched = true;
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  // Jobs that never became ready (a cycle the plan should not contain) are reported, not hung on.
  for (const job of pending) finish(job, { result: 'canceled', error: problem('ENGINE_INTERNAL', 'job waited on itself (ordering cycle)', { unit: job.unit }) });
  return outcomes;
}
