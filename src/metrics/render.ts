/**
 * crtosd's metrics in Prometheus's text format: the one rendering both the metrics file
 * (--metrics-file, for node_exporter's textfile collector) and `crtosctl metrics` print. Pure.
 *
 * Names follow Prometheus's conventions: the `crtos_` prefix, base units in the name
 * (`_seconds`), counters ending in `_total`, an `_info` gauge of 1 carrying the version as a
 * label, and the unit state as node_exporter's systemd collector shows it (one series per state,
 * 1 on the current one), so the same alerting rules fit. Labels are the unit id and its kind;
 * their sets stay small (one series per unit and state), as a label's values should.
 */
import type { ActiveState } from '../engine/manager-api.js';
import { renderExposition, type Label, type MetricFamily, type Sample } from './exposition.js';
import type { MetricsSnapshot, UnitMetrics } from './snapshot.js';

/** Every ActiveState, in systemd's order; the Record makes the compiler name one left out. */
export const ACTIVE_STATES = Object.keys({
  active: true,
  reloading: true,
  inactive: true,
  failed: true,
  activating: true,
  deactivating: true,
} satisfies Record<ActiveState, true>) as ActiveState[];

const unitLabels = (u: UnitMetrics): Label[] => [
  ['unit', u.unit],
  ['kind', u.kind],
];

/** A unit's samples for a family: each unit in snapshot order, those `f` returns nothing for left out. */
function perUnit(units: readonly UnitMetrics[], f: (u: UnitMetrics) => Sample[] | Sample | undefined): Sample[] {
  return units.flatMap((u) => f(u) ?? []);
}

export function metricFamilies(s: MetricsSnapshot): MetricFamily[] {
  const { units } = s;
  return [
    {
      name: 'crtos_build_info',
      help: 'crtosd build information; always 1, the version is a label.',
      type: 'gauge',
      samples: [{ labels: [['version', s.version]], value: 1 }],
    },
    {
      name: 'crtos_unit_active',
      help: 'Whether the unit is up: 1 when its active state is active or reloading, else 0.',
      type: 'gauge',
      samples: perUnit(units, (u) => ({ labels: unitLabels(u), value: u.activeState === 'active' || u.activeState === 'reloading' ? 1 : 0 })),
    },
    {
      name: 'crtos_unit_state',
      help: 'The unit\'s active state: one series per state, 1 on the current one.',
      type: 'gauge',
      samples: perUnit(units, (u) => ACTIVE_STATES.map((state) => ({ labels: [...unitLabels(u), ['state', state]], value: u.activeState === state ? 1 : 0 }))),
    },
    {
      name: 'crtos_unit_restarts_total',
      help: 'Automatic restarts of the unit (its restart policy or health table), across crtosd restarts.',
      type: 'counter',
      samples: perUnit(units, (u) => ({ labels: unitLabels(u), value: u.restarts })),
    },
    {
      name: 'crtos_health_events_total',
      help: 'Events the unit\'s health monitor raised, by event (failed, liveness, startFailed, readyTimeout, exited, recovered).',
      type: 'counter',
      samples: perUnit(units, (u) => u.healthEvents?.map(([event, n]) => ({ labels: [...unitLabels(u), ['event', event]], value: n }))),
    },
    {
      name: 'crtos_unit_bringup_duration_seconds',
      help: 'How long the unit\'s last bring-up took, from leaving inactive to active (0 when adopted running).',
      type: 'gauge',
      samples: perUnit(units, (u) => (u.bringupSeconds === undefined ? undefined : { labels: unitLabels(u), value: u.bringupSeconds })),
    },
    {
      name: 'crtos_cell_cpus',
      help: 'How many CPUs the cell owns.',
      type: 'gauge',
      samples: perUnit(units, (u) => (u.cpus === undefined ? undefined : { labels: [['unit', u.unit]], value: u.cpus })),
    },
    {
      name: 'crtos_reload_last_success',
      help: 'Whether the last load of the unit files was applied (1) or refused for errors (0); the last good set runs on.',
      type: 'gauge',
      samples: s.reload ? [{ labels: [], value: s.reload.ok ? 1 : 0 }] : [],
    },
    {
      name: 'crtos_reload_last_timestamp_seconds',
      help: 'When the unit files were last loaded (at start or a reload), in seconds since the epoch.',
      type: 'gauge',
      samples: s.reload ? [{ labels: [], value: s.reload.timestampSeconds }] : [],
    },
  ];
}

export function renderMetrics(s: MetricsSnapshot): string {
  return renderExposition(metricFamilies(s));
}
