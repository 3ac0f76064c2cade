/**
 * plan(): the pure heart of the engine. From the unit set, the computed descriptions, what the
 * state file says was applied, what the machine shows and the engine's holds, it builds the whole
 * job set (systemd's transaction) with its ordering, before anything is touched:
 *
 * - a unit that should be up and is not gets a start job (a half-made one with the same
 *   description is resumed; with another description it is cleaned up first);
 * - a unit that is up with a changed description gets what the kind's change table asks: nothing
 *   (the record is rewritten), a reload (cells: shutdown, load, start) or a stop + start;
 * - removed or held units that are up get a stop job;
 * - every unit that requires a unit being taken down is stopped before it and started after;
 * - stops run in reverse start order and before every start; starts wait for the units they are
 *   ordered after.
 */
import type { UnitSet } from '../units/types.js';
import type { ChangeAction } from '../kinds/spec-common.js';
import { definitionOf } from '../kinds/index.js';
import { canReload, resumesStart } from '../kinds/behaviours.js';
import type { PlannedStep } from './manager-api.js';
import { classifyChange } from './change.js';
import { orderPredecessors, requiredByClosure } from './graph.js';
import type { AppliedRecord, Hold, Observation, UnitDescription } from './types.js';

export type PlanJobType = 'start' | 'stop' | 'reload' | 'adopt';

export interface PlanJob {
  /** Index in Plan.jobs. */
  index: number;
  unit: string;
  type: PlanJobType;
  reason: string;
  /** Indexes of jobs that must finish first. */
  waitFor: number[];
  /** stop only: the unit stays down (removed, held): its record is deleted. */
  final?: boolean;
  /** start only: a stop job of the same unit runs first (its failure voids this start). */
  afterOwnStop?: number;
}

export interface Plan {
  jobs: PlanJob[];
  steps: PlannedStep[];
  /** Units that should be up but are not started because a unit they require is held down failed. */
  blocked: Map<string, string>;
  /**
   * Changes held until the operator asks (a re-enable, which destroys every cell), and the changes
   * that must wait with them; what runs stays as it is. By unit: what is pending and how to apply it.
   */
  pending: Map<string, PendingChange>;
}

export interface PendingChange {
  action: ChangeAction;
  /** What changed, in the operator's words. */
  reason: string;
  /** How to apply it. */
  hint: string;
}

export interface PlanInput {
  set: UnitSet;
  descriptions: ReadonlyMap<string, UnitDescription>;
  records: ReadonlyMap<string, AppliedRecord>;
  observed: ReadonlyMap<string, Observation>;
  holds: ReadonlyMap<string, Hold>;
  /** Full restarts requested (manual `restart`). */
  restarts?: ReadonlySet<string>;
  /** Reloads in place requested (manual `reload`, a cell's onFailure restart), with why; only kinds that reload take them. */
  reloads?: ReadonlyMap<string, string>;
  /**
   * Descriptions (by digest) the machine refused for a unit that runs: what runs stays as it is,
   * planned as unchanged, until the description changes or a start is asked for.
   */
  refused?: ReadonlyMap<string, string>;
  /**
   * Units that do not run on this machine (a condition failed, or one of a unit they require): not
   * started, and stopped if they run (a reload changed a condition), by id with why. No failure.
   */
  skipped?: ReadonlyMap<string, { text: string }>;
}

const INACTIVE: Observation['state'] = 'inactive';

export function plan(input: PlanInput): Plan {
  const { set, descriptions, records, observed, holds } = input;
  const restarts = input.restarts ?? new Set<string>();
  const reloads = input.reloads ?? new Map<string, string>();
  const skipped = input.skipped ?? new Map<string, { text: string }>();
  const stateOf = (id: string) => observed.get(id)?.state ?? INACTIVE;

  // 0. Changes held for the operator, and the units waiting with them: what runs is left as it is,
  //    and one of them that is down stays down (with the units that require it) until they apply.
  const pending = heldChanges(input, stateOf, restarts);
  const pendingDown = new Set([...pending.keys()].filter((id) => stateOf(id) === 'inactive'));

  // 1. Which units should be up. A unit held down takes the units that require it down with it
  //    (stop together); a unit whose requirement failed is blocked (result: dependency).
  const up = new Map<string, boolean>();
  const blocked = new Map<string, string>();
  const visiting = new Set<string>();
  const wantUp = (id: string): boolean => {
    const known = up.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return true; // a requirement cycle: the loader reports it
    visiting.add(id);
    let result = !holds.has(id) && !pendingDown.has(id) && !skipped.has(id);
    if (result) {
      for (const r of set.deps.get(id)?.requires ?? []) {
        if (!set.units.has(r)) {
          // Requiring a unit that does not exist fails the start, as systemd's not-found units.
          blocked.set(id, r);
          result = false;
          continue;
        }
        if (wantUp(r)) continue;
        if (pendingDown.has(r)) {
          result = false;
          continue;
        }
        const hold = holds.get(r);
        if (hold && hold.reason !== 'stopped' && hold.reason !== 'exited' && hold.reason !== 'restart-pending') blocked.set(id, r);
        else if (blocked.has(r)) blocked.set(id, blocked.get(r)!);
        result = false;
      }
    }
    visiting.delete(id);
    up.set(id, result);
    return result;
  };

  interface Intent {
    stop?: { reason: string; final: boolean };
    start?: { reason: string };
    reload?: { reason: string };
    adopt?: { reason: string };
    step?: PlannedStep;
  }
  const intents = new Map<string, Intent>();
  const intent = (id: string): Intent => {
    let i = intents.get(id);
    if (!i) intents.set(id, (i = {}));
    return i;
  };

  // 2. Each unit of the set on its own.
  for (const id of set.units.keys()) {
    const obs = stateOf(id);
    const rec = records.get(id);
    const desc = descriptions.get(id);
    const kind = set.units.get(id)!.kind;
    const held = pending.get(id);
    if (held && (wantUp(id) || pendingDown.has(id))) {
      // A reload in place keeps the configuration that runs (a failed cell's policy still applies).
      const reloadWhy = reloads.get(id);
      if (reloadWhy !== undefined && obs !== 'inactive' && canReload(kind)) {
        intent(id).reload = { reason: reloadWhy };
        intent(id).step = { unit: id, action: 'reload', reason: reloadWhy };
      } else intent(id).step = { unit: id, action: 'pending', reason: `${held.reason}; ${held.hint}` };
      continue;
    }
    if (!wantUp(id)) {
      const skip = skipped.get(id);
      if (skip) {
        if (obs !== 'inactive') {
          intent(id).stop = { reason: skip.text, final: true };
          intent(id).step = { unit: id, action: 'stop', reason: skip.text };
        }
        continue;
      }
      const hold = holds.get(id);
      const stoppedTogether = !hold && !blocked.has(id);
      if (obs !== 'inactive' && (hold?.reason === 'stopped' || stoppedTogether)) {
        intent(id).stop = { reason: hold ? 'stopped by request' : 'a unit it requires is stopped', final: true };
        intent(id).step = { unit: id, action: 'stop', reason: intent(id).stop!.reason };
      } else if (obs === 'partial' && hold && hold.reason !== 'restart-pending') {
        // A failed start leaves nothing half-made behind.
        intent(id).stop = { reason: 'clean up after a failed start', final: true };
      }
      continue;
    }
    if (restarts.has(id) && obs !== 'inactive') {
      intent(id).stop = { reason: 'restart requested', final: false };
      intent(id).start = { reason: 'restart requested' };
      intent(id).step = { unit: id, action: 'restart', reason: 'restart requested' };
      continue;
    }
    const reloadWhy = reloads.get(id);
    if (reloadWhy !== undefined && obs !== 'inactive' && canReload(kind)) {
      intent(id).reload = { reason: reloadWhy };
      intent(id).step = { unit: id, action: 'reload', reason: reloadWhy };
      continue;
    }
    if (obs === 'active' && desc !== undefined && input.refused?.get(id) === desc.digest) continue;
    const sameDesc = rec !== undefined && desc !== undefined && rec.digest === desc.digest;
    if (obs === 'inactive') {
      intent(id).start = { reason: rec ? 'it is not running' : 'new unit' };
      intent(id).step = { unit: id, action: 'start', reason: intent(id).start!.reason };
    } else if (obs === 'partial') {
      if (sameDesc) intent(id).start = { reason: 'finish a start that was interrupted' };
      else {
        intent(id).stop = { reason: 'clean up a half-made unit of another description', final: false };
        intent(id).start = { reason: 'new description' };
      }
      intent(id).step = { unit: id, action: 'start', reason: intent(id).start!.reason };
    } else if (obs === 'failed') {
      // A failed cell is the supervisor's (onFailure); only a new description restarts it here.
      if (rec && desc && !sameDesc) {
        intent(id).stop = { reason: 'description changed while failed', final: false };
        intent(id).start = { reason: 'description changed while failed' };
        intent(id).step = { unit: id, action: 'restart', reason: 'description changed while failed' };
      }
    } else if (!rec || !desc) {
      if (desc) intent(id).adopt = { reason: 'found running; adopted' };
    } else if (rec.digest !== desc.digest) {
      const c = classifyChange(kind, rec.fields, desc.fields);
      const why = changeReason(set, descriptions, records, id, c.decisive);
      const action: ChangeAction = c.action;
      if (action === 'none') intent(id).adopt = { reason: `field${c.fields.length > 1 ? 's' : ''} ${c.fields.join(', ')} changed; nothing to do` };
      else if (action === 'reload') {
        intent(id).reload = { reason: why };
        intent(id).step = { unit: id, action: 'reload', reason: why };
      } else {
        intent(id).stop = { reason: why, final: false };
        intent(id).start = { reason: why };
        intent(id).step = { unit: id, action: action === 'restart' ? 'restart' : action, reason: why };
      }
    } else if (rec.phase === 'starting' && resumesStart(kind)) {
      intent(id).start = { reason: 'finish a start that was interrupted' };
      intent(id).step = { unit: id, action: 'start', reason: 'finish a start that was interrupted' };
    } else if (rec.phase === 'starting') {
      intent(id).adopt = { reason: 'start finished before the daemon restarted' };
    }
  }

  // 3. Units that were applied and are gone from the set.
  for (const [id, rec] of records) {
    if (set.units.has(id)) continue;
    intent(id).stop = { reason: 'removed from the unit files', final: true };
    intent(id).step = { unit: id, action: 'stop', reason: 'removed from the unit files' };
    void rec;
  }

  // 4. Dependents of every unit being taken down go down first and come back after.
  const takenDown = [...intents].filter(([, i]) => i.stop || i.reload).map(([id]) => id);
  for (const id of takenDown) {
    const verb = intents.get(id)!.reload ? 'reloaded' : intents.get(id)!.stop!.final ? 'stopped' : 'restarted';
    const dependents = [...new Set([...requiredByClosure(set, id), ...recordDependents(records, id)])];
    for (const dep of dependents) {
      if (stateOf(dep) === 'inactive' && !intents.get(dep)?.stop) continue;
      const i = intent(dep);
      if (!i.stop) i.stop = { reason: `requires ${id}, which is ${verb}`, final: !set.units.has(dep) || !wantUp(dep) };
      if (set.units.has(dep) && wantUp(dep) && !i.start) {
        i.start = { reason: `requires ${id}, which is ${verb}` };
        delete i.reload;
        delete i.adopt;
        i.step ??= { unit: dep, action: 'restart', reason: i.start.reason };
      }
    }
  }

  // 5. Jobs and their order.
  const jobs: PlanJob[] = [];
  const stopJob = new Map<string, PlanJob>();
  const upJob = new Map<string, PlanJob>();
  const add = (unit: string, type: PlanJobType, reason: string, extra: Partial<PlanJob> = {}): PlanJob => {
    const job: PlanJob = { index: jobs.length, unit, type, reason, waitFor: [], ...extra };
    jobs.push(job);
    return job;
  };
  for (const [id, i] of intents) {
    if (i.stop) stopJob.set(id, add(id, 'stop', i.stop.reason, { final: i.stop.final }));
  }
  for (const [id, i] of intents) {
    if (i.reload) upJob.set(id, add(id, 'reload', i.reload.reason));
    else if (i.start) {
      const own = stopJob.get(id);
      upJob.set(id, add(id, 'start', i.start.reason, own ? { afterOwnStop: own.index } : {}));
    } else if (i.adopt) add(id, 'adopt', i.adopt.reason);
  }
  const predsOf = (id: string): readonly string[] => (set.units.has(id) ? orderPredecessors(set, id) : (records.get(id)?.after ?? []));
  const allStops = [...stopJob.values()].map((j) => j.index);
  for (const job of jobs) {
    if (job.type === 'stop') {
      // Stop in reverse order: wait for the stops of every unit ordered after this one.
      for (const [other, otherStop] of stopJob) {
        if (other === job.unit) continue;
        const otherPreds = new Set([...predsOf(other), ...(records.get(other)?.after ?? [])]);
        if (otherPreds.has(job.unit)) job.waitFor.push(otherStop.index);
      }
    } else if (job.type === 'start' || job.type === 'reload') {
      // Every stop first: a removed cell frees the CPUs a new one may need.
      job.waitFor.push(...allStops);
      for (const p of predsOf(job.unit)) {
        const pj = upJob.get(p);
        if (pj) job.waitFor.push(pj.index);
      }
    }
    job.waitFor = [...new Set(job.waitFor)].sort((a, b) => a - b);
  }

  const steps = [...intents.values()].flatMap((i) => (i.step ? [i.step] : []));
  return { jobs, steps, blocked, pending };
}

/**
 * The changes a unit's kind holds until the operator asks (a running hypervisor's re-enable, see
 * KindDefinition.holdChange), then the units whose changed fields apply only with one of those
 * (UnitDescription.heldWith: a cell's links must not reach the cell before the root cell has
 * them). A restart asked of the unit that holds applies its change, so it is not held; one asked
 * of a unit waiting with it is not (see below).
 */
function heldChanges(input: PlanInput, stateOf: (id: string) => Observation['state'], restarts: ReadonlySet<string>): Map<string, PendingChange> {
  const { set, descriptions, records } = input;
  const out = new Map<string, PendingChange>();
  const changedFields = (id: string): string[] | undefined => {
    const desc = descriptions.get(id);
    const rec = records.get(id);
    if (!desc) return undefined;
    if (!rec) return Object.keys(desc.fields);
    if (rec.digest === desc.digest) return undefined;
    return Object.keys({ ...rec.fields, ...desc.fields }).filter((f) => rec.fields[f] !== desc.fields[f]);
  };
  for (const [id, unit] of set.units) {
    const desc = descriptions.get(id);
    const rec = records.get(id);
    if (restarts.has(id) || stateOf(id) !== 'active' || !desc || !rec || rec.digest === desc.digest) continue;
    const c = classifyChange(unit.kind, rec.fields, desc.fields);
    const hint = definitionOf(unit.kind).holdChange?.(unit.spec as never, c.action, id);
    if (hint) out.set(id, { action: c.action, reason: `${c.action} (${changeReason(set, descriptions, records, id, c.decisive)})`, hint });
  }
  if (out.size === 0) return out;
  // A restart asked of one of these would bring its new description up before its source's: it waits too.
  for (const [id] of set.units) {
    if (out.has(id)) continue;
    const heldWith = descriptions.get(id)?.heldWith;
    if (!heldWith) continue;
    const fields = changedFields(id) ?? [];
    const source = fields.map((f) => heldWith[f]).find((s) => s !== undefined && out.has(s));
    if (source === undefined) continue;
    const waiting = fields.filter((f) => heldWith[f] === source);
    out.set(id, {
      action: out.get(source)!.action,
      reason: `field${waiting.length > 1 ? 's' : ''} ${waiting.join(', ')} changed with ${source}`,
      hint: `applies with ${source}'s ${out.get(source)!.action}`,
    });
  }
  return out;
}

function recordDependents(records: ReadonlyMap<string, AppliedRecord>, id: string): string[] {
  const out = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop()!;
    for (const r of records.values()) {
      if (!r.requires.includes(cur) || out.has(r.id) || r.id === id) continue;
      out.add(r.id);
      stack.push(r.id);
    }
  }
  return [...out];
}

/**
 * Why a changed unit is touched, in the operator's words: the fields that decided it, and for a
 * field that carries the contents of the units it references (a cell's `load`, see
 * KindDefinition.foldsContentOf) those units whose contents or pins changed (an Image edit shows
 * on its cells).
 */
function changeReason(
  set: UnitSet,
  descriptions: ReadonlyMap<string, UnitDescription>,
  records: ReadonlyMap<string, AppliedRecord>,
  id: string,
  decisive: readonly string[],
): string {
  const unit = set.units.get(id);
  const definition = unit ? definitionOf(unit.kind) : undefined;
  const folding = new Set((definition?.foldsContentOf ?? []).filter((f) => decisive.includes(f)));
  const fields = decisive.filter((f) => !folding.has(f));
  const parts = fields.length > 0 ? [`field${fields.length > 1 ? 's' : ''} ${fields.join(', ')} changed`] : [];
  for (const field of [...folding].reverse()) {
    const referenced = definition!.references(unit!.spec as never).filter((r) => r.field === field || r.field.startsWith(`${field}.`)).map((r) => r.target);
    const changed = referenced.filter((ref) => records.get(ref) !== undefined && records.get(ref)?.digest !== descriptions.get(ref)?.digest);
    parts.unshift(changed.length > 0 ? `${nounOf(set, changed)}${changed.length > 1 ? 's' : ''} ${changed.join(', ')} changed` : `field ${field} changed`);
  }
  return parts.join('; ');
}

/** `image` for image units: what the changed referenced units are called in a reason ("unit" when of several kinds). */
function nounOf(set: UnitSet, ids: readonly string[]): string {
  const kinds = new Set(ids.map((id) => set.units.get(id)?.kind ?? id.slice(id.lastIndexOf('.') + 1)));
  return kinds.size === 1 ? [...kinds][0]!.toLowerCase() : 'unit';
}
