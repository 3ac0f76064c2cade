/** The per-unit runtime the engine keeps for observers, and its conversion to UnitStatus. */
import type { KindName } from '../kinds/spec-common.js';
import { findKind, kindModule } from '../kinds/index.js';
import type { UnitSet } from '../units/types.js';
import type { Problem } from '../errors/problem.js';
import type { ActiveState, JobInfo, LogLine, TimelineOperation, TransitionTimes, UnitDetails, UnitResult, UnitStatus, UnitTimestamps, LoadState } from './manager-api.js';
import { now } from './clock.js';
import type { HealthRecord } from './health/record.js';
import { healthDetails, showsHealth } from './health/view.js';

export interface UnitRuntime {
  id: string;
  kind: KindName;
  loadState: LoadState;
  activeState: ActiveState;
  subState: string;
  result: UnitResult;
  timestamps: UnitTimestamps;
  lastError?: Problem;
  job?: JobInfo;
  /** What the last plan holds for the operator (see Plan.pending), as `crtosctl status` shows it. */
  pendingChange?: string;
  /** Why the unit does not run on this machine (its condition failed, or one of a unit it requires). */
  condition?: string;
  details: UnitDetails;
  log: LogLine[];
  restarts: number;
  exitCode: number;
  exitSignal: string;
  /** What its health monitor counted (kinds with a health table: Cell, Loader). */
  health?: HealthRecord;
  /** The operations of its last start or reload job (src/engine/timeline.ts). */
  operations: TimelineOperation[];
  /**
   * The state its saved history showed (a restarted daemon): the first transition to that state
   * is the unit found as it was, and keeps the timestamps the history brought back.
   */
  resumed?: ActiveState;
}

export function newRuntime(id: string, kind: KindName, details: UnitDetails): UnitRuntime {
  return {
    id,
    kind,
    loadState: 'loaded',
    activeState: 'inactive',
    subState: 'dead',
    result: 'success',
    timestamps: { ...never(), monotonic: never() },
    details,
    log: [],
    operations: [],
    restarts: 0,
    exitCode: 0,
    exitSignal: '',
  };
}

const never = (): TransitionTimes => ({ stateChange: 0, inactiveExit: 0, activeEnter: 0, activeExit: 0, inactiveEnter: 0 });

/** Moves the runtime to a new active state, stamping the systemd transition timestamps (µs, both clocks). */
export function transition(rt: UnitRuntime, next: ActiveState, subState: string): boolean {
  const prev = rt.activeState;
  if (prev === next && rt.subState === subState) return false;
  const resumed = rt.resumed === next;
  delete rt.resumed;
  rt.activeState = next;
  rt.subState = subState;
  if (resumed) return true;
  const t = now();
  const stamp = (field: keyof TransitionTimes) => {
    rt.timestamps[field] = t.realtime;
    rt.timestamps.monotonic[field] = t.monotonic;
  };
  const wasInactive = prev === 'inactive' || prev === 'failed';
  const isInactive = next === 'inactive' || next === 'failed';
  if (wasInactive && !isInactive) stamp('inactiveExit');
  if (next === 'active' && prev !== 'active' && prev !== 'reloading') stamp('activeEnter');
  if ((prev === 'active' || prev === 'reloading') && next !== 'active' && next !== 'reloading') stamp('activeExit');
  if (isInactive && !wasInactive) stamp('inactiveEnter');
  if (prev !== next) stamp('stateChange');
  return true;
}

export function emptyDetails(kind: KindName): UnitDetails {
  return { kind, ...structuredClone(kindModule(kind).view.empty) };
}

/** The counters the runtime keeps for every unit; a kind shows those its details declare, and its health monitor's when its view does. */
const RUNTIME_COUNTERS = ['exitCode', 'exitSignal', 'restarts'] as const;

function withRuntimeCounters(rt: UnitRuntime): UnitDetails {
  const view = findKind(rt.details.kind)?.view;
  const empty = view?.empty;
  const shown = empty ? RUNTIME_COUNTERS.filter((f) => f in empty) : [];
  const health = showsHealth(view?.properties);
  if (shown.length === 0 && !health) return rt.details;
  const details: UnitDetails = { ...rt.details, ...(health ? healthDetails(rt.health) : {}) };
  for (const f of shown) details[f] = rt[f];
  return details;
}

export function toStatus(rt: UnitRuntime, set: UnitSet | undefined): UnitStatus {
  const unit = set?.units.get(rt.id);
  const deps = set?.deps.get(rt.id);
  const details = withRuntimeCounters(rt);
  return {
    id: rt.id,
    kind: rt.kind,
    description: (unit?.spec as { description?: string } | undefined)?.description ?? rt.id,
    loadState: unit ? 'loaded' : 'not-found',
    activeState: rt.activeState,
    subState: rt.subState,
    result: rt.result,
    timestamps: { ...rt.timestamps, monotonic: { ...rt.timestamps.monotonic } },
    sourcePath: unit?.source.file ?? '',
    dropInPaths: unit?.source.dropIns ?? [],
    requires: deps?.requires ?? [],
    wants: deps?.wants ?? [],
    after: deps?.after ?? [],
    before: deps?.before ?? [],
    requiredBy: deps?.requiredBy ?? [],
    wantedBy: deps?.wantedBy ?? [],
    ...(rt.lastError ? { lastError: rt.lastError } : {}),
    ...(rt.job ? { job: { ...rt.job } } : {}),
    ...(rt.pendingChange ? { pendingChange: rt.pendingChange } : {}),
    ...(rt.condition ? { condition: rt.condition } : {}),
    details,
  };
}
