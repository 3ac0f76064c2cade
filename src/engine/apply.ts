/**
 * apply(): runs a plan's jobs, each as soon as the jobs it waits for are finished, all ready jobs
 * at once. A start or reload whose required unit failed to come up is not run (result
 * `dependency`); a failed `wants` does not matter. A start whose own stop failed is not run either.
 */
import { problem, type Problem } from '../errors/problem.js';
import type { JobResult, UnitResult } from './manager-api.js';
import type { Plan, PlanJob } from './plan.js';

export interface JobOutcome {
  result: JobResult;
  unitResult?: UnitResult;
  error?: Problem;
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
}

export async function applyPlan(plan: Plan, hooks: ApplyHooks): Promise<Map<number, JobOutcome>> {
  const outcomes = new Map<number, JobOutcome>();
  /** Units whose start or reload in this plan did not succeed. */
  const failedUp = new Set<string>();
  const pending = new Set(plan.jobs);
  const running = new Map<number, Promise<void>>();

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
    const p = hooks
      .run(job)
      .catch((e: unknown): JobOutcome => ({ result: 'failed', unitResult: 'resources', error: problem('ENGINE_INTERNAL', String(e instanceof Error ? e.stack : e), { unit: job.unit }) }))
      .then((outcome) => {
        running.delete(job.index);
        finish(job, outcome);
      });
    running.set(job.index, p);
  };

  for (;;) {
    let launched = true;
    while (launched) {
      launched = false;
      for (const job of [...pending]) {
        if (running.size >= (hooks.maxParallel ?? Infinity)) break;
        if (job.waitFor.every((w) => outcomes.has(w))) {
          launch(job);
          launched = true;
        }
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  // Jobs that never became ready (a cycle the plan should not contain) are reported, not hung on.
  for (const job of pending) finish(job, { result: 'canceled', error: problem('ENGINE_INTERNAL', 'job waited on itself (ordering cycle)', { unit: job.unit }) });
  return outcomes;
}
