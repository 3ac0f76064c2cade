/**
 * The applied records in memory and their persistence: every change is written through to the
 * state file (src/engine/state-file.ts) at once, so a daemon killed at any point leaves a file
 * that says what it had applied. Also the loader invocation ids already accounted for.
 */
import { problem, type Problem } from '../errors/problem.js';
import { hasBehaviour } from '../kinds/behaviours.js';
import type { Unit, UnitSet } from '../units/types.js';
import type { Target } from '../kinds/behaviours.js';
import { unrecordedProcess } from './observe.js';
import type { StateStore, ToolRunStore } from './state-file.js';
import type { AppliedRecord, Snapshot, UnitDescription, UnitFacts } from './types.js';

export class AppliedRecords {
  /** Replaced as a whole by load(); read it through this property, never keep the map. */
  map = new Map<string, AppliedRecord>();
  /**
   * Loader invocation ids this daemon spawned or already looked up in /proc: only an id from the
   * state file that was never looked up can belong to a process whose PID went unrecorded.
   */
  private readonly settledInvocations = new Set<string>();
  /** Records of kinds this daemon does not know: kept in the state file as they are, never acted on. */
  private foreign = new Map<string, AppliedRecord>();

  constructor(
    private readonly store: StateStore,
    /** Where a failed write is reported; the daemon goes on with the records in memory. */
    private readonly onSaveError: (message: string) => void,
  ) {}

  /** Where running tools are recorded beside the state file (tool-runs.ts), if anywhere. */
  get toolRuns(): ToolRunStore | undefined {
    return this.store.toolRuns;
  }

  /**
   * Reads the state file; returns why it (or a record of it) could not be used. A record of a kind
   * this daemon does not know (written by another version) is set aside: it can be neither
   * observed nor stopped, so it is reported rather than taken for some other kind.
   */
  load(): Problem[] {
    const loaded = this.store.load();
    const unknown = [...loaded.records.values()].filter((r) => !hasBehaviour(r.kind));
    this.foreign = new Map(unknown.map((r) => [r.id, r]));
    for (const r of unknown) loaded.records.delete(r.id);
    this.map = loaded.records;
    return [
      ...(loaded.problem ? [loaded.problem] : []),
      ...unknown.map((r) =>
        problem('ENGINE_STATE_FILE', `the state file records ${r.id} of kind ${r.kind}, which this crtosd does not know; it is left as it is`, { unit: r.id, hint: 'stop it by hand, or run the crtosd that applied it' }),
      ),
    ];
  }

  write(unit: Unit, set: UnitSet | undefined, desc: UnitDescription, facts: UnitFacts, phase: AppliedRecord['phase']): void {
    const deps = set?.deps.get(unit.id);
    this.map.set(unit.id, {
      id: unit.id,
      kind: unit.kind,
      digest: desc.digest,
      fields: desc.fields,
      facts,
      // The unit graph's `after` already holds what it requires and wants.
      after: deps ? [...deps.after] : [],
      requires: deps?.requires ?? [],
      phase,
      updated: Date.now(),
    });
    this.persist();
  }

  /** Puts a record back as it was (a job that changed nothing after all). */
  restore(record: AppliedRecord): void {
    this.map.set(record.id, record);
    this.persist();
  }

  delete(id: string): void {
    if (this.map.delete(id)) this.persist();
  }

  settleInvocation(invocationId: string): void {
    this.settledInvocations.add(invocationId);
  }

  isSettled(invocationId: string): boolean {
    return this.settledInvocations.has(invocationId);
  }

  /**
   * A process unit (a loader) recorded 'starting' with an invocation id but no PID: the last daemon
   * died between the spawn and recording it. If the snapshot found its process by INVOCATION_ID,
   * record PID and start time now, so the plan adopts it (or stops it, when it must go) rather than
   * starting a second one.
   */
  recordFoundLoaders(targets: readonly Target[], snap: Snapshot, log: (unit: string, message: string) => void): void {
    for (const t of targets) {
      const invocationId = t.facts.invocationId;
      if (!unrecordedProcess(t) || invocationId === undefined || this.settledInvocations.has(invocationId)) continue;
      this.settledInvocations.add(invocationId);
      const rec = this.map.get(t.id);
      const proc = snap.processes.get(t.id);
      if (!rec || !proc) continue;
      this.map.set(t.id, { ...rec, facts: { ...rec.facts, pid: proc.pid, startTime: proc.startTime }, updated: Date.now() });
      this.persist();
      log(t.id, `found process ${proc.pid} by INVOCATION_ID ${invocationId}, started before the daemon restarted; not starting another`);
    }
  }

  private persist(): void {
    try {
      this.store.save(this.foreign.size === 0 ? this.map : new Map([...this.foreign, ...this.map]));
    } catch (e) {
      this.onSaveError(`cannot write the state file: ${(e as Error).message}`);
    }
  }
}
