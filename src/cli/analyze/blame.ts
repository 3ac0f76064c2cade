/**
 * `crtosctl analyze blame`: units by how long their activation took, slowest first, as
 * systemd-analyze blame prints them (the time right-aligned, then the unit). Units whose
 * activation time is not known (never started, still activating) are left out, as there.
 */
import type { UnitTimes } from './data.js';
import { formatTimespan } from './timespan.js';

export interface BlameRow {
  id: string;
  time: number;
}

export function blameRows(units: readonly UnitTimes[]): BlameRow[] {
  return units
    .filter((u) => u.time > 0)
    .map((u) => ({ id: u.id, time: u.time }))
    .sort((a, b) => b.time - a.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function renderBlame(units: readonly UnitTimes[]): string {
  const rows = blameRows(units).map((r) => [formatTimespan(r.time), r.id] as const);
  const width = Math.max(0, ...rows.map(([t]) => t.length));
  return rows.map(([t, id]) => `${t.padStart(width)} ${id}\n`).join('');
}
