/**
 * Engine states (src/engine/manager-api.ts) as property values per interface, in the JS form
 * dbus-next marshals (`t` as bigint, problems as Variant dicts). Pure: the service caches the last
 * values it announced and sends PropertiesChanged with the difference.
 */
import type { DaemonStatus, JobInfo, UnitDetails, UnitStatus, UnitTimestamps } from '../engine/manager-api.js';
import { TIMESTAMP_FIELDS } from './schema.js';
import { encodeProblem } from './problem-codec.js';
import { jobObjectPath, unitObjectPath } from './object-path.js';
import { JOB_IFACE, MANAGER_IFACE, UNIT_IFACE } from './names.js';
import type { PropertyType } from '../kinds/view.js';
import { viewOf } from '../kinds/views.js';

export type PropertyValues = Record<string, unknown>;
/** Interface name → its properties' values. */
export type ObjectProperties = Record<string, PropertyValues>;

/** A µs timestamp as D-Bus `t`: whole, never negative. */
export const usec = (n: number): bigint => BigInt(Math.max(0, Math.trunc(n)));
const u32 = (n: number): number => Math.max(0, Math.min(0xffffffff, Math.trunc(n)));

export function jobTuple(job: JobInfo | undefined): [number, string] {
  return job ? [job.id, jobObjectPath(job.id)] : [0, '/'];
}

/** A details field as the D-Bus type its kind declares: counts clamped to uint32, containers copied. */
function kindValue(type: PropertyType, v: unknown): unknown {
  switch (type) {
    case 'u':
      return u32(Number(v));
    case 'au':
      return (v as number[]).map(u32);
    case 't':
      return usec(Number(v));
    case 'as':
      return [...(v as string[])];
    case 'a{ss}':
      return { ...(v as Record<string, string>) };
    case 'a{su}':
      return Object.fromEntries(Object.entries(v as Record<string, number>).map(([k, n]) => [k, u32(n)]));
    default:
      return v;
  }
}

/**
 * The kind interface's values. A field the details do not carry is not sent (rather than a made-up
 * value): crtosd's own statuses carry every field their view declares, a status made elsewhere (an
 * older manager's, a test's) may lack the later ones (a cell's health counts).
 */
function kindProperties(d: UnitDetails): PropertyValues {
  const out: PropertyValues = {};
  for (const p of viewOf(d.kind).properties) if (d[p.field] !== undefined) out[p.name] = kindValue(p.type, d[p.field]);
  return out;
}

/** Each transition timestamp and its …Monotonic twin. */
function timestampProperties(t: UnitTimestamps): PropertyValues {
  const out: PropertyValues = {};
  for (const [name, field] of Object.entries(TIMESTAMP_FIELDS)) {
    out[name] = usec(t[field]);
    out[`${name}Monotonic`] = usec(t.monotonic[field]);
  }
  return out;
}

export function unitProperties(s: UnitStatus): ObjectProperties {
  return {
    [UNIT_IFACE]: {
      Id: s.id,
      Kind: s.kind,
      Description: s.description,
      LoadState: s.loadState,
      ActiveState: s.activeState,
      SubState: s.subState,
      Result: s.result,
      ...timestampProperties(s.timestamps),
      SourcePath: s.sourcePath,
      DropInPaths: [...s.dropInPaths],
      Requires: [...s.requires],
      Wants: [...s.wants],
      After: [...s.after],
      Before: [...s.before],
      RequiredBy: [...s.requiredBy],
      WantedBy: [...s.wantedBy],
      LastError: encodeProblem(s.lastError),
      Job: jobTuple(s.job),
      PendingChange: s.pendingChange ?? '',
      ConditionResult: s.condition === undefined,
      ConditionText: s.condition ?? '',
    },
    [viewOf(s.details.kind).iface]: kindProperties(s.details),
  };
}

export function managerProperties(d: DaemonStatus, nUnits: number, nJobs: number): ObjectProperties {
  return {
    [MANAGER_IFACE]: {
      Version: d.version,
      SystemState: d.systemState,
      UnitDirectories: [...d.unitDirectories],
      LastLoadErrors: d.lastLoadErrors.map((p) => encodeProblem(p)),
      LastReconcileTimestamp: usec(d.lastReconcile),
      NUnits: u32(nUnits),
      NJobs: u32(nJobs),
    },
  };
}

export function jobProperties(job: JobInfo): ObjectProperties {
  return { [JOB_IFACE]: { Id: job.id, Unit: [job.unit, unitObjectPath(job.unit)], JobType: job.type, State: job.state } };
}

/** ListUnits entry, field order as systemd's. */
export function unitListEntry(s: UnitStatus): [string, string, string, string, string, string, string, number, string, string] {
  const [jobId, jobPath] = jobTuple(s.job);
  return [s.id, s.description, s.loadState, s.activeState, s.subState, '', unitObjectPath(s.id), jobId, s.job?.type ?? '', jobPath];
}

/** A comparable key for a property value (bigints and Variants included). */
export function valueKey(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
}

/** The properties whose value differs between two snapshots of one interface. */
export function changedProperties(before: PropertyValues | undefined, after: PropertyValues): PropertyValues {
  const out: PropertyValues = {};
  for (const [k, v] of Object.entries(after)) {
    if (!before || !sameValue(before[k], v)) out[k] = v;
  }
  return out;
}

/**
 * Whether two property values are equal: scalars (strings, numbers, booleans, bigints: most of a
 * unit's forty) compared as they are, containers by their keys. Every unit change of a bring-up
 * is compared so, property by property.
 */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return valueKey(a) === valueKey(b);
}
