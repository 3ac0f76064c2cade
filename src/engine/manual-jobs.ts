/**
 * Jobs asked for by hand (StartUnit, StopUnit, RestartUnit, ReloadUnit): returned at once, as
 * systemd returns the job path, and ended (jobRemoved) by the job of a pass that does what they
 * asked, or else by the first pass that began after them, with the state it left.
 */
import type { JobInfo, JobResult, JobType } from './manager-api.js';
import type { PlanJob } from './plan.js';
import type { JobOutcome } from './apply.js';
import type { UnitTable } from './unit-table.js';

type JobGoal = 'start' | 'stop';

interface ManualJob {
  info: JobInfo;
  goal: JobGoal;
  /** The pass generation it waits for: resolved when a pass that began after it ends. */
  after: number;
}

export class ManualJobs {
  private readonly waiting: ManualJob[] = [];
  /** The pass running or last run, counted from 1. */
  private generation = 0;

  constructor(private readonly table: UnitTable) {}

  /** A pass begins: its generation. */
  beginPass(): number {
    return ++this.generation;
  }

  /** The generation of the pass running or last run. */
  get current(): number {
    return this.generation;
  }

  /** A job asked for now, announced at once and waiting for the next pass. */
  add(unit: string, type: JobType): JobInfo {
    const info: JobInfo = { id: this.table.newJobId(), unit, type, state: 'waiting' };
    this.waiting.push({ info, goal: type === 'stop' ? 'stop' : 'start', after: this.generation + 1 });
    this.table.jobNew(info);
    return { ...info };
  }

  /** A pass's job on `unit` ended: the manual jobs it answers end with its result. */
  answeredBy(unit: string, job: PlanJob, outcome: JobOutcome): void {
    const goal: JobGoal | undefined = job.type === 'stop' ? (job.final ? 'stop' : undefined) : job.type === 'adopt' ? undefined : 'start';
    if (!goal) return;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const m = this.waiting[i]!;
      if (m.info.unit !== unit || m.goal !== goal || m.after > this.generation) continue;
      this.waiting.splice(i, 1);
      this.table.jobRemoved(m.info, outcome.result);
    }
  }

  /** The pass of `generation` ended: the jobs still waiting for it end with the state it left. */
  passEnded(generation: number): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const m = this.waiting[i]!;
      if (m.after > generation) continue;
      this.waiting.splice(i, 1);
      const rt = this.table.existingRuntime(m.info.unit);
      let result: JobResult;
      if (m.goal === 'start') {
        result = rt?.activeState === 'active' ? 'done' : rt?.result === 'dependency' ? 'dependency' : rt?.activeState === 'activating' ? 'done' : 'failed';
      } else {
        result = rt === undefined || rt.activeState === 'inactive' || rt.activeState === 'failed' ? 'done' : 'failed';
      }
      this.table.jobRemoved(m.info, result);
    }
  }
}
