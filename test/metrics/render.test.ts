import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { renderMetrics } from '../../src/metrics/render.js';
import type { MetricsSnapshot, UnitMetrics } from '../../src/metrics/snapshot.js';

const cell: UnitMetrics = {
  unit: 'nuttx.cell',
  kind: 'cell',
  activeState: 'active',
  restarts: 2,
  healthEvents: [
    ['failed', 2],
    ['liveness', 0],
  ],
  bringupSeconds: 1.5,
  cpus: 2,
};
const driver: UnitMetrics = { unit: 'shadow.driver', kind: 'driver', activeState: 'failed', restarts: 0 };
const snapshot: MetricsSnapshot = { version: '0.1.0', units: [cell, driver], reload: { ok: true, timestampSeconds: 1764493200.25 } };

const EXPECTED = `# HELP crtos_build_info crtosd build information; always 1, the version is a label.
# TYPE crtos_build_info gauge
crtos_build_info{version="0.1.0"} 1
# HELP crtos_unit_active Whether the unit is up: 1 when its active state is active or reloading, else 0.
# TYPE crtos_unit_active gauge
crtos_unit_active{unit="nuttx.cell",kind="cell"} 1
crtos_unit_active{unit="shadow.driver",kind="driver"} 0
# HELP crtos_unit_state The unit's active state: one series per state, 1 on the current one.
# TYPE crtos_unit_state gauge
crtos_unit_state{unit="nuttx.cell",kind="cell",state="active"} 1
crtos_unit_state{unit="nuttx.cell",kind="cell",state="reloading"} 0
crtos_unit_state{unit="nuttx.cell",kind="cell",state="inactive"} 0
crtos_unit_state{unit="nuttx.cell",kind="cell",state="failed"} 0
crtos_unit_state{unit="nuttx.cell",kind="cell",state="activating"} 0
crtos_unit_state{unit="nuttx.cell",kind="cell",state="deactivating"} 0
crtos_unit_state{unit="shadow.driver",kind="driver",state="active"} 0
crtos_unit_state{unit="shadow.driver",kind="driver",state="reloading"} 0
crtos_unit_state{unit="shadow.driver",kind="driver",state="inactive"} 0
crtos_unit_state{unit="shadow.driver",kind="driver",state="failed"} 1
crtos_unit_state{unit="shadow.driver",kind="driver",state="activating"} 0
crtos_unit_state{unit="shadow.driver",kind="driver",state="deactivating"} 0
# HELP crtos_unit_restarts_total Automatic restarts of the unit (its restart policy or health table), across crtosd restarts.
# TYPE crtos_unit_restarts_total counter
crtos_unit_restarts_total{unit="nuttx.cell",kind="cell"} 2
crtos_unit_restarts_total{unit="shadow.driver",kind="driver"} 0
# HELP crtos_health_events_total Events the unit's health monitor raised, by event (failed, liveness, startFailed, readyTimeout, exited, recovered).
# TYPE crtos_health_events_total counter
crtos_health_events_total{unit="nuttx.cell",kind="cell",event="failed"} 2
crtos_health_events_total{unit="nuttx.cell",kind="cell",event="liveness"} 0
# HELP crtos_unit_bringup_duration_seconds How long the unit's last bring-up took, from leaving inactive to active (0 when adopted running).
# TYPE crtos_unit_bringup_duration_seconds gauge
crtos_unit_bringup_duration_seconds{unit="nuttx.cell",kind="cell"} 1.5
# HELP crtos_cell_cpus How many CPUs the cell owns.
# TYPE crtos_cell_cpus gauge
crtos_cell_cpus{unit="nuttx.cell"} 2
# HELP crtos_reload_last_success Whether the last load of the unit files was applied (1) or refused for errors (0); the last good set runs on.
# TYPE crtos_reload_last_success gauge
crtos_reload_last_success 1
# HELP crtos_reload_last_timestamp_seconds When the unit files were last loaded (at start or a reload), in seconds since the epoch.
# TYPE crtos_reload_last_timestamp_seconds gauge
crtos_reload_last_timestamp_seconds 1764493200.25
`;

describe('crtosd metrics', () => {
  test('every family with HELP and TYPE, one series per unit (per state, per event), units in snapshot order', () => {
    expect(renderMetrics(snapshot)).toBe(EXPECTED);
  });

  test('a unit id or version with a quote, a backslash or a line feed stays one well-formed label value', () => {
    const odd: UnitMetrics = { unit: 'a"b\\c\nd.loader', kind: 'loader', activeState: 'inactive', restarts: 0 };
    const text = renderMetrics({ version: '1"\\\n', units: [odd] });
    expect(text).toContain('crtos_build_info{version="1\\"\\\\\\n"} 1\n');
    expect(text).toContain('crtos_unit_active{unit="a\\"b\\\\c\\nd.loader",kind="loader"} 0\n');
    // Every line is a comment or a whole sample: the line feed did not break one in two.
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('# ') && !l.startsWith('crtos_'))).toEqual([]);
  });

  test('the same snapshot renders the same text; a failed load shows 0', () => {
    expect(renderMetrics(snapshot)).toBe(renderMetrics(structuredClone(snapshot)));
    const refused = renderMetrics({ ...snapshot, reload: { ok: false, timestampSeconds: 5 } });
    expect(refused).toContain('\ncrtos_reload_last_success 0\n');
    expect(refused).toContain('\ncrtos_reload_last_timestamp_seconds 5\n');
  });

  test('before the first load, and with no units, the families are there without samples', () => {
    const text = renderMetrics({ version: '0.1.0', units: [] });
    expect(text.match(/^# TYPE .*$/gm)).toHaveLength(9);
    expect(text.split('\n').filter((l) => l.startsWith('crtos_'))).toEqual(['crtos_build_info{version="0.1.0"} 1']);
  });

  test('promtool check metrics finds no problem in the names, types and help', () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: renderMetrics(snapshot), encoding: 'utf8' });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: '' });
  });
});
