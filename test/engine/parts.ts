/**
 * Test fixture: the engine's parts (JobRunner, Supervisor, and the UnitTable they share) wired as
 * the Manager wires them, on the simulated machine, without the Manager: tests of jobs.ts and supervisor.ts
 * drive them directly and wait on the calls they make (reconcile, job events).
 */
import { createLinuxHost } from '../../src/host/index.js';
import type { Host } from '../../src/host/host.js';
import { loadUnits } from '../../src/units/index.js';
import type { UnitSet } from '../../src/units/types.js';
import { describeUnits } from '../../src/engine/description.js';
import type { AppliedRecords } from '../../src/engine/applied-records.js';
import { memoryStateStore } from '../../src/engine/state-file.js';
import { Supervisor, type SupervisorContext } from '../../src/engine/supervisor.js';
import { JobRunner, type JobRunnerContext } from '../../src/engine/jobs.js';
import type { StartHistory } from '../../src/engine/supervision.js';
import type { UnitRuntime } from '../../src/engine/status.js';
import { UnitTable } from '../../src/engine/unit-table.js';
import { ManualJobs } from '../../src/engine/manual-jobs.js';
import { observeAll, takeSnapshot } from '../../src/engine/observe.js';
import type { Target } from '../../src/kinds/behaviours.js';
import type { Hold, Observation, UnitDescription } from '../../src/engine/types.js';
import type { JobInfo, JobResult, LogLine } from '../../src/engine/manager-api.js';
import type { Fixture } from './harness.js';

export interface Parts {
  host: Host;
  set: UnitSet;
  descriptions: Map<string, UnitDescription>;
  /** The unit table the parts share, as the Manager's. */
  table: UnitTable;
  records: AppliedRecords;
  holds: Map<string, Hold>;
  runtimes: Map<string, UnitRuntime>;
  histories: Map<string, StartHistory>;
  supervisor: Supervisor;
  jobs: JobRunner;
  /** Every reconcile asked for, with its reason, in order. */
  reconciles: string[];
  events: { type: 'new' | 'removed'; info: JobInfo; result?: JobResult }[];
  logs: LogLine[];
  /** Resolves with the reason once a reconcile whose reason matches is asked for (now or later). */
  untilReconcile(reason: RegExp, timeoutMs?: number): Promise<string>;
  /** Targets as the Manager builds them: the set's units with their facts, and removed recorded ones. */
  targets(): Target[];
  observe(): Promise<Map<string, Observation>>;
  close(): void;
}

export interface PartsOptions {
  host?: Host;
  logDir?: string;
  maxLockedJobs?: number;
  supervise?: boolean;
  pollIntervalMs?: number;
}

export async function makeParts(f: Fixture, opts: PartsOptions = {}): Promise<Parts> {
  const host = opts.host ?? createLinuxHost({ root: f.machine.dir, env: f.machine.env, toolTimeoutMs: 5000, exitPollMs: 50 });
  const loaded = await loadUnits({ directories: [f.unitsDir] });
  if (!loaded.set) throw new Error(`units did not load: ${JSON.stringify(loaded.problems)}`);
  const set = loaded.set;
  const descriptions = await describeUnits(set, host, loaded.sources);
  const logs: LogLine[] = [];
  const events: Parts['events'] = [];
  const table = new UnitTable(memoryStateStore(), {
    emit: (event, ...args) => {
      if (event === 'log') logs.push(args[0] as LogLine);
      else if (event === 'jobNew') events.push({ type: 'new', info: { ...(args[0] as JobInfo) } });
      else if (event === 'jobRemoved') events.push({ type: 'removed', info: { ...(args[0] as JobInfo) }, result: args[1] as JobResult });
    },
  });
  table.set = set;
  table.descriptions = descriptions;
  const reconciles: string[] = [];
  const waiters: { reason: RegExp; resolve: (r: string) => void }[] = [];
  let closed = false;
  const reconcile = (reason: string) => {
    reconciles.push(reason);
    for (const w of waiters.filter((x) => x.reason.test(reason))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(reason);
    }
    return Promise.resolve();
  };
  const supervisorCtx: SupervisorContext = {
    host,
    table,
    supervise: opts.supervise !== false,
    pollIntervalMs: opts.pollIntervalMs ?? 0,
    reconcile,
    closed: () => closed,
    passRunning: () => false,
  };
  const supervisor = new Supervisor(supervisorCtx);
  const jobsCtx: JobRunnerContext = {
    host,
    table,
    supervisor,
    manualJobs: new ManualJobs(table),
    maxParallelJobs: 10,
    maxLockedJobs: opts.maxLockedJobs ?? 8,
    logDir: opts.logDir,
    loaderEnv: { PATH: f.machine.env.PATH ?? '' },
    reconcile,
  };
  const jobs = new JobRunner(jobsCtx);
  const { records } = table;
  const targets = (): Target[] => table.targets();
  return {
    host,
    set,
    descriptions,
    table,
    records,
    holds: table.holds,
    runtimes: table.runtimes,
    histories: table.histories,
    supervisor,
    jobs,
    reconciles,
    events,
    logs,
    untilReconcile(reason, timeoutMs = 10_000) {
      const done = reconciles.find((r) => reason.test(r));
      if (done !== undefined) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reconcile matching ${reason} within ${timeoutMs} ms; asked: ${JSON.stringify(reconciles)}`)), timeoutMs);
        waiters.push({ reason, resolve: (r) => (clearTimeout(timer), resolve(r)) });
      });
    },
    targets,
    async observe() {
      const t = targets();
      return observeAll(await takeSnapshot(host, t), t);
    },
    close() {
      closed = true;
      supervisor.close();
    },
  };
}
