/**
 * One pass of the Manager's loop: observe the machine (once the hypervisor is not in transition),
 * plan against the unit table, stage every start and reload, run the jobs, observe again. What a
 * pass planned is what it returns; the loop (manager.ts) decides whom that answers.
 */
import type { Host } from '../host/host.js';
import type { UnitSet } from '../units/types.js';
import type { Problem } from '../errors/problem.js';
import type { PlannedStep } from './manager-api.js';
import { behaviourOf, hasBehaviour, type Target } from '../kinds/behaviours.js';
import { hypervisorTransition, observeAll, takeSnapshot, type TimedSnapshot } from './observe.js';
import { findBackend, type Transition } from '../backends/index.js';
import { plan as buildPlan } from './plan.js';
import { transition } from './status.js';
import type { Observation, Snapshot, UnitDescription } from './types.js';
import type { Supervisor } from './supervisor.js';
import type { JobRunner } from './jobs.js';
import type { UnitTable } from './unit-table.js';
import type { Skip } from '../conditions/machine-set.js';

/** How often a pass looks again at a hypervisor in transition (the backend's transition says how long at most). */
const TRANSITION_POLL_MS = 50;

/** What a pass did: the steps it planned (none when it planned nothing), and the problems of those that failed. */
export interface PassResult {
  steps?: PlannedStep[];
  failures: Problem[];
}

export interface PassContext {
  readonly host: Host;
  readonly table: UnitTable;
  readonly supervisor: Supervisor;
  readonly jobs: JobRunner;
  reconcile(reason: string): Promise<void>;
  closed(): boolean;
}

export class Pass {
  private readonly table: UnitTable;

  constructor(private readonly ctx: PassContext) {
    this.table = ctx.table;
  }

  /** One pass: observe, plan, stage, apply, observe again. Resolves with what it planned. */
  async run(reason: string): Promise<PassResult> {
    this.table.log('debug', undefined, `reconcile: ${reason}`);
    const result: PassResult = { failures: [] };
    try {
      const targets = this.table.targets();
      const snap = await this.settledSnapshot(targets);
      this.table.records.recordFoundLoaders(targets, snap, (unit, message) => this.table.log('info', unit, message));
      this.ctx.supervisor.rememberBackends(snap.backends);
      const observed = observeAll(snap, targets);
      // No unit set was ever accepted (this daemon started on files it refuses): what runs is
      // observed and reported, and nothing is planned against it — with no set, every recorded
      // unit would look removed and be stopped.
      if (this.table.set) await this.planAndApply(this.table.set, observed, snap.takenAt, result);
      else this.table.refresh(this.current(observed, snap.takenAt), new Map());
    } catch (e) {
      this.table.log('error', undefined, `reconcile failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return result;
  }

  /**
   * Plans against what was observed (by a snapshot taken at `takenAt`), stages, applies; fills
   * `result` as it goes (a pass that throws reports what it planned).
   */
  private async planAndApply(set: UnitSet, seen: Map<string, Observation>, takenAt: number, result: PassResult): Promise<void> {
    const { table } = this;
    // Filtered again at each use: a loader may exit while the pass awaits (staging), and its exit,
    // handled meanwhile, outranks what the snapshot read before it (UnitTable.current).
    const current = () => this.current(seen, takenAt);
    this.watchRecordedLoaders(set, current());
    this.ctx.supervisor.superviseFailures(current());
    const { restarts, reloads } = table.takeRequests();
    const planNow = () => buildPlan({ set, descriptions: table.descriptions, records: table.records.map, observed: current(), holds: table.planHolds(), restarts, reloads, refused: table.refused, skipped: table.skipped });
    let thePlan = planNow();
    // Staged first: a start or reload that would fail before touching the machine (an image that
    // does not verify) is refused, and the plan made again without it, so nothing is taken down for it.
    const refused = thePlan.jobs.length > 0 ? await this.ctx.jobs.stage(thePlan, set) : new Map<string, Problem>();
    for (const [id, why] of refused) {
      this.refuseStaged(id, why, current().get(id));
      restarts.delete(id);
      reloads.delete(id);
    }
    if (refused.size > 0) thePlan = planNow();
    result.steps = thePlan.steps;
    result.failures.push(...refused.values());
    table.refresh(current(), thePlan.blocked, thePlan.pending);
    if (thePlan.jobs.length === 0) return;
    const outcomes = await this.ctx.jobs.applyJobs(thePlan, set, current());
    const kept = thePlan.jobs.filter((j) => outcomes.get(j.index)?.keptRunning);
    for (const job of kept) table.refused.set(job.unit, table.digest(job.unit) ?? '');
    // The units that require one put back were stopped for it: bring them up again.
    if (kept.length > 0) void this.ctx.reconcile(`${kept.map((j) => j.unit).join(', ')} kept as before`);
    result.failures.push(...[...outcomes.values()].flatMap((o) => (o.result === 'done' || o.result === 'skipped' || !o.error ? [] : [o.error])));
    const after = table.targets();
    const snapAfter = await this.snapshot(after);
    this.ctx.supervisor.rememberBackends(snapAfter.backends);
    const observedAfter = this.current(observeAll(snapAfter, after), snapAfter.takenAt);
    // What the jobs left is supervised too: a cell already failed when its start returned gets
    // its onFailure now (the poll compares against this observation and would see no change).
    this.ctx.supervisor.superviseFailures(observedAfter);
    table.refresh(observedAfter, thePlan.blocked, thePlan.pending);
  }

  /**
   * What a pass may act on of a snapshot whose reads began at `takenAt`: an exit is the exit
   * handler's, whichever the snapshot saw first. A unit whose exit was handled after the reads
   * began is left out (UnitTable.current); one found gone whose exit is not handled yet is taken
   * as it was, active, until it is (systemd too leaves a service running until it reaps its main
   * process): else the plan would start it again, its exit, handled next, would find it replaced
   * and be dropped, and its restart policy and health table would never see it.
   */
  private current(observed: ReadonlyMap<string, Observation>, takenAt: number): Map<string, Observation> {
    const out = this.table.current(observed, takenAt);
    for (const [id, obs] of out) {
      const rt = this.table.existingRuntime(id);
      if (obs.state !== 'active' && rt?.activeState === 'active' && this.ctx.supervisor.exitPending(id)) out.set(id, { state: 'active', subState: rt.subState, details: rt.details });
    }
    return out;
  }

  /**
   * Loaders an earlier daemon started, found running under the same description: no job adopts
   * them (nothing changed), so they are watched here, like the ones this daemon spawned.
   */
  private watchRecordedLoaders(set: UnitSet, observed: ReadonlyMap<string, Observation>): void {
    for (const [id, rec] of this.table.records.map) {
      const unit = set.units.get(id);
      if (unit && rec.phase === 'active' && observed.get(id)?.state === 'active') this.ctx.jobs.watchRunning(unit, rec.facts);
    }
  }

  /**
   * A start or reload refused while staging: a unit that runs keeps running as it is, its new
   * description refused until it changes; one that does not run follows its restart policy like a
   * failed start.
   */
  private refuseStaged(id: string, why: Problem, obs: Observation | undefined): void {
    const { table } = this;
    const unit = table.unit(id);
    const digest = table.digest(id) ?? '';
    if (!unit) return;
    const rt = table.fail(id, why);
    if (obs?.state === 'active') {
      table.refused.set(id, digest);
      this.table.log('error', id, `not changed, it keeps running as it is: ${why.message}`);
    } else {
      // A failed cell is retried by reloading it in place, as its onFailure restart does.
      this.ctx.supervisor.onStartFailure(unit, digest, why, obs?.state === 'failed');
      this.table.log('error', id, `not started: ${why.message}`);
      if (table.holds.get(id)?.reason !== 'restart-pending') transition(rt, 'failed', 'failed');
    }
    table.announce(id);
  }

  /**
   * A snapshot taken once the hypervisor is not between two states (a disable or a destroy under
   * way, by crtosd or behind its back), waiting for it with a deadline; past the deadline the pass
   * plans against what it sees, and says so.
   */
  private async settledSnapshot(targets: readonly Target[]): Promise<TimedSnapshot> {
    let snap = await this.snapshot(targets);
    // Kept first: a dump read is what lets a recovery held by it go on.
    const running = this.runningPartitions();
    const kept = await this.collect(snap, running);
    const cells = new Map([...running].map(([backend, byName]) => [backend, [...byName.keys()]]));
    const first = hypervisorTransition(snap, cells);
    const recovered = (partition: string, why: string) => {
      for (const byName of running.values()) {
        const id = byName.get(partition);
        if (id) this.ctx.supervisor.partitionRecovered(id, why);
      }
    };
    if (first === undefined) {
      // A recovery too quick for any look to see under way shows only by its dump.
      for (const k of kept) recovered(k.partition, `the kernel recovered ${k.partition} after a crash (${k.message})`);
      return snap;
    }
    this.table.log('info', undefined, `the hypervisor may be in transition: ${first.why}; waiting up to ${first.waitMs} ms for it to settle`);
    const deadline = Date.now() + first.waitMs;
    let now: Transition | undefined = first;
    while (now !== undefined && Date.now() < deadline && !this.ctx.closed()) {
      await new Promise((r) => setTimeout(r, TRANSITION_POLL_MS));
      snap = await this.snapshot(targets);
      now = hypervisorTransition(snap, cells);
    }
    if (now !== undefined) this.table.log('info', undefined, `acting on what the hypervisor shows after ${first.waitMs} ms: ${now.why}`);
    else if (first.recovering !== undefined) recovered(first.recovering, `the kernel recovered ${first.recovering} after a crash`);
    return snap;
  }

  /** The partitions (cells) crtosd runs, by the backend they run on, each with its unit's id. */
  private runningPartitions(): Map<string, Map<string, string>> {
    const out = new Map<string, Map<string, string>>();
    for (const r of this.table.records.map.values()) {
      const partition = r.phase === 'active' && hasBehaviour(r.kind) ? behaviourOf(r.kind).partitionOf?.(r.facts) : undefined;
      if (!partition) continue;
      if (!out.has(partition.backend)) out.set(partition.backend, new Map());
      out.get(partition.backend)!.set(partition.name, r.id);
    }
    return out;
  }

  /** What the backends keep of their partitions before the machine drops it (Backend.collect), logged on the units. */
  private async collect(snap: Snapshot, running: ReadonlyMap<string, ReadonlyMap<string, string>>): Promise<{ partition: string; message: string }[]> {
    const out: { partition: string; message: string }[] = [];
    for (const [backend, byName] of running) {
      const status = snap.backends.get(backend);
      const collect = findBackend(backend)?.collect;
      if (!status || !collect) continue;
      for (const kept of await collect(this.ctx.host, status, [...byName.keys()])) {
        this.table.log('warn', byName.get(kept.partition), kept.message);
        out.push(kept);
      }
    }
    return out;
  }

  /** takeSnapshot, looking up by INVOCATION_ID only loaders whose invocation is not settled yet. */
  snapshot(targets: readonly Target[]): Promise<TimedSnapshot> {
    return takeSnapshot(this.ctx.host, targets, { findByInvocation: (t) => !this.table.records.isSettled(t.facts.invocationId!), ...this.ctx.jobs.observeOptions() });
  }

  /** The steps a pass would plan for a candidate set, without applying anything. */
  async preview(set: UnitSet, descriptions: Map<string, UnitDescription>, skipped: ReadonlyMap<string, Skip>): Promise<PlannedStep[]> {
    const targets = this.table.targets(set, descriptions);
    const snap = await this.snapshot(targets);
    const observed = this.current(observeAll(snap, targets), snap.takenAt);
    return buildPlan({ set, descriptions, records: this.table.records.map, observed, holds: this.table.planHolds(), skipped }).steps;
  }
}
