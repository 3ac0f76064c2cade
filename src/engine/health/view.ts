/**
 * The health monitor as observers see it, for the views of the kinds that have one (Cell, Loader):
 * the properties their D-Bus interface carries, the details fields behind them, and the `Health:`
 * and `Last event:` lines of `crtosctl status`. Pure and without zod: crtosctl loads it with the
 * views.
 */
import type { Details, KindProperty } from '../../kinds/view.js';
import type { HealthRecord } from './record.js';
import { codeUnitOrder } from '../../lib/code-unit-order.js';

export interface HealthDetails {
  /** Events raised, by kind (`liveness`, `failed`, …); only kinds that happened. */
  healthEvents: Record<string, number>;
  /** Actions taken, by kind (`reload`, `restart`, …). */
  healthActions: Record<string, number>;
  /** The level the last event was handled at; '' before the first. */
  healthLevel: string;
  /** The last event: when (µs since the epoch, 0 for none), what, the action and why. */
  healthLastTime: number;
  healthLastEvent: string;
  healthLastAction: string;
  healthLastReason: string;
}

/** The fields of a unit that raised no event yet. */
const HEALTH_EMPTY: HealthDetails = {
  healthEvents: {},
  healthActions: {},
  healthLevel: '',
  healthLastTime: 0,
  healthLastEvent: '',
  healthLastAction: '',
  healthLastReason: '',
};

export const HEALTH_PROPERTIES: readonly KindProperty[] = [
  { name: 'HealthEvents', type: 'a{su}', field: 'healthEvents' },
  { name: 'HealthActions', type: 'a{su}', field: 'healthActions' },
  { name: 'HealthLevel', type: 's', field: 'healthLevel' },
  { name: 'HealthLastEventTimestamp', type: 't', field: 'healthLastTime' },
  { name: 'HealthLastEvent', type: 's', field: 'healthLastEvent' },
  { name: 'HealthLastAction', type: 's', field: 'healthLastAction' },
  { name: 'HealthLastReason', type: 's', field: 'healthLastReason' },
];

/** Whether a kind's view shows the health monitor (declares its properties); the engine adds the fields to its statuses. */
export function showsHealth(properties: readonly KindProperty[] | undefined): boolean {
  return properties?.some((p) => p.field === 'healthEvents') ?? false;
}

/** The details fields of a unit's health record (none yet: the empty ones). */
export function healthDetails(record: HealthRecord | undefined): HealthDetails {
  if (!record) return structuredClone(HEALTH_EMPTY);
  return {
    healthEvents: { ...record.events } as Record<string, number>,
    healthActions: { ...record.actions } as Record<string, number>,
    healthLevel: record.level,
    healthLastTime: record.last?.time ?? 0,
    healthLastEvent: record.last?.event ?? '',
    healthLastAction: record.last?.action ?? '',
    healthLastReason: record.last?.why ?? '',
  };
}

const counts = (by: Record<string, number>): string =>
  Object.entries(by)
    .sort(([a], [b]) => codeUnitOrder(a, b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `2026-11-30 14:02:11`, local time. */
function localTime(usec: number): string {
  const d = new Date(Math.floor(usec / 1000));
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/**
 * `Health: events liveness 3; actions reload 2, restart 1; level cold` and `Last event:
 * 2026-11-30 14:02:11 liveness → restart at cold: liveness failed 3 times (…)`; nothing for a
 * unit that never raised an event.
 */
export function healthStatusLines(details: Details): [string, string][] {
  const d = details as Details & HealthDetails;
  if (!d.healthLastEvent) return [];
  // A level named like its action is the one an event names directly (or an old policy field):
  // the action says it all.
  const named = d.healthLevel !== '' && d.healthLevel !== d.healthLastAction;
  return [
    ['Health', `events ${counts(d.healthEvents)}; actions ${counts(d.healthActions)}${named ? `; level ${d.healthLevel}` : ''}`],
    ['Last event', `${localTime(d.healthLastTime)} ${d.healthLastEvent} → ${d.healthLastAction}${named ? ` at ${d.healthLevel}` : ''}: ${d.healthLastReason}`],
  ];
}
