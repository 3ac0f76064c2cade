/**
 * Test fixture: the engine's parts (JobRunner, Supervisor, AppliedRecords) wired as the Manager
 * wires them, on the simulated machine, without the Manager: tests of jobs.ts and supervisor.ts
 * drive them directly and wait on the calls they make (reconcile, job events).
 */
import { createLinuxHost } from '../../src/host/index.js';
import type { Host } from '../../src/host/host.js';
import { loadUnits } from '../../src/units/index.js';
import type { UnitSet } from '../../src/units/types.js';
import { describeUnits } from '../../src/engine/description.js';
import { AppliedRecords } from '../../src/engine/applied-records.js';
import { memoryStateStore } from '../../src/engine/state-file.js';
import { Supervisor, type SupervisorContext } from '../../src/engine/supervisor.js';
import { JobRunner, type JobRunnerContext } from '../../src/engine/jobs.js';
import { StartHistory } from '../../src/engine/supervision.js';
import { emptyDetails, newRuntime, type UnitRuntime } from '../../src/engine/status.js';
import { observeAll, takeSnapshot } from '../../src/engine/observe.js';
import type { Target } from '../../src/kinds/behaviours.js';
import type { Hold, Observation, UnitDescription } from '../../src/engine/types.js';
import type { JobInfo, JobResult, LogLine } from '../../src/engine/manager-api.js';
import type { Fixture } from './harness.js';

export interface Parts {
  host: Host;
  set: UnitSet;
  descriptions: Map<string, UnitDescription>;
  records: AppliedRecords;
  holds: Map<string, Hold>;
  runtimes: Map<string, UnitRuntime>;
  histories: Map<string, StartHistory>;
  supervisor: Supervisor;
  jobs: JobRunner;
  /** Every reconcile asked for, with its reason, in order. */
  reconciles: string[];
  /** Reloads asked for: unit → why. */
  reloads: Map<string, string>;
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
  const records = new AppliedRecords(memoryStateStore(), (message) => logs.push({ time: 0, level: 'error', message }));
  const holds = new Map<string, Hold>();
  const runtimes = new Map<string, UnitRuntime>();
  const histories = new Map<string, StartHistory>();
  const reconciles: string[] = [];
  const waiters: { reason: RegExp; resolve: (r: string) => void }[] = [];
  const reloads = new Map<string, string>();
  const events: Parts['events'] = [];
  let closed = false;
  const runtime = (id: string): UnitRuntime => {
    let rt = runtimes.get(id);
    if (!rt) {
      const kind = set.units.get(id)?.kind ?? records.map.get(id)?.kind;
      if (kind === undefined) throw new Error(`no unit ${id}`);
      runtimes.set(id, (rt = newRuntime(id, kind, emptyDetails(kind))));
    }
    return rt;
  };
  const history = (id: string): StartHistory => {
    let h = histories.get(id);
    if (!h) histories.set(id, (h = new StartHistory()));
    return h;
  };
  const common = {
    host,
    records,
    holds,
    runtime,
    history,
    log: (level: LogLine['level'], unit: string | undefined, message: string) => void logs.push({ time: Date.now() * 1000, level, ...(unit ? { unit } : {}), message }),
    emitUnit: () => undefined,
    reconcile: (reason: string) => {
      reconciles.push(reason);
      for (const w of waiters.filter((x) => x.reason.test(reason))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(reason);
      }
      return Promise.resolve();
    },
  };
  const supervisorCtx: SupervisorContext = {
    ...common,
    supervise: opts.supervise !== false,
    pollIntervalMs: opts.pollIntervalMs ?? 0,
    unit: (id) => set.units.get(id),
    digest: (id) => descriptions.get(id)?.digest,
    requestReload: (id, why) => void reloads.set(id, why),
    closed: () => closed,
    passRunning: () => false,
  };
  const supervisor = new Supervisor(supervisorCtx);
  let nextJobId = 1;
  const jobsCtx: JobRunnerContext = {
    ...common,
    maxParallelJobs: 10,
    maxLockedJobs: opts.maxLockedJobs ?? 8,
    logDir: opts.logDir,
    loaderEnv: { PATH: f.machine.env.PATH ?? '' },
    supervisor,
    currentSet: () => set,
    description: (id) => descriptions.get(id),
    nextJobId: () => nextJobId++,
    jobNew: (info) => void events.push({ type: 'new', info: { ...info } }),
    jobRemoved: (info, result) => void events.push({ type: 'removed', info: { ...info }, result }),
    existingRuntime: (id) => runtimes.get(id),
    removeRuntime: (id) => void runtimes.delete(id),
    resolveManualJobsFor: () => undefined,
  };
  const jobs = new JobRunner(jobsCtx);
  const targets = (): Target[] => [
    ...[...set.units.values()].map((unit) => ({ id: unit.id, kind: unit.kind, unit, facts: { ...(descriptions.get(unit.id)?.facts ?? {}), ...(records.map.get(unit.id)?.facts ?? {}) } })),
    ...[...records.map.values()].filter((r) => !set.units.has(r.id)).map((r) => ({ id: r.id, kind: r.kind, facts: r.facts })),
  ];
  return {
    host,
    set,
    descriptions,
    records,
    holds,
    runtimes,
    histories,
    supervisor,
    jobs,
    reconciles,
    reloads,
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
