/**
 * `crtosctl analyze plot > boot.svg`: the bring-up as a timeline, like systemd-analyze plot. One
 * row per unit with a bar from activating to active (to the failure when it failed, to now while
 * it activates), coloured by kind; the operations of its last bring-up (tools, files, spawns,
 * readiness probes) as thinner bars inside it; the unit id and how long it took beside the bar; a
 * time axis with ticks; a legend. A unit never started is a row too, with a stub bar.
 *
 * The SVG is self-contained (no external fonts, styles or images: presentation attributes and
 * the generic sans-serif family) and well-formed XML: every text is escaped. Each unit's bar is
 * one element `class="unit …" data-unit="ID"`, each operation `class="operation" data-unit="ID"`.
 */
import type { TimelineOperation } from '../../engine/manager-api.js';
import { barEnd, failedUp, originOf, type BootData, type UnitTimes } from './data.js';
import { formatTimespan } from './timespan.js';
import { formatTimestamp } from '../format/text.js';

/** Kind colours, given out in the order of the kinds' names (no kind is named here). */
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];
const OPERATION_FILL = '#1f2d3d';
const FAILED = '#d62728';
const NEVER_FILL = '#cccccc';

const LEFT = 20;
const CHART_WIDTH = 1000;
const ROW = 24;
const BAR = 16;
const OP = 10;
/** Rough width of a character of the 7.5 px operation names written inside their bars. */
const OP_CHAR_PX = 4.3;
const AXIS_Y = 104;
const FONT = 'font-family="sans-serif"';
/** Rough width of a character of the 11 px labels, to make room for the longest. */
const CHAR_PX = 6.5;

/** Text for XML content and attribute values: markup escaped, characters XML 1.0 forbids dropped. */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex -- these are exactly the characters XML cannot carry
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A tick step of 1, 2 or 5 × 10ⁿ µs giving at most `most` ticks over the span. */
export function tickStep(span: number, most = 10): number {
  for (let p = 1; ; p *= 10) {
    for (const m of [1, 2, 5]) if (m * p * most >= span) return m * p;
  }
}

/** A tick's label in the unit its step is counted in: `0`, `250ms`, `1.5s`. */
export function tickLabel(t: number, step: number): string {
  if (t === 0) return '0';
  const [size, suffix] = step >= 100_000 ? [1_000_000, 's'] : step >= 100 ? [1000, 'ms'] : [1, 'us'];
  const decimals = Math.max(0, Math.ceil(Math.log10(size / step) - 1e-9));
  return `${(t / size).toFixed(decimals)}${suffix}`;
}

/** The colour of each kind present, in the order of their names. */
export function kindColours(units: readonly UnitTimes[]): Map<string, string> {
  const kinds = [...new Set(units.map((u) => u.kind))].sort();
  return new Map(kinds.map((k, i) => [k, PALETTE[i % PALETTE.length] ?? OPERATION_FILL]));
}

interface Row {
  unit: UnitTimes;
  start?: number;
  end?: number;
  state: 'active' | 'failed' | 'activating' | 'never';
}

function rowOf(u: UnitTimes, now: number): Row {
  const end = barEnd(u, now);
  if (end === undefined) return { unit: u, state: 'never' };
  const state = u.activated >= u.activating ? 'active' : failedUp(u) ? 'failed' : 'activating';
  return { unit: u, start: u.activating, end, state };
}

function label(r: Row): string {
  if (r.start === undefined || r.end === undefined) return `${r.unit.id} (not started)`;
  const took = formatTimespan(r.end - r.start);
  if (r.state === 'failed') return `${r.unit.id} (failed after ${took})`;
  if (r.state === 'activating') return `${r.unit.id} (activating, ${took} so far)`;
  return `${r.unit.id} (${took})`;
}

const attrs = (a: Record<string, string | number>): string =>
  Object.entries(a)
    .map(([k, v]) => `${k}="${typeof v === 'number' ? round(v) : xmlEscape(v)}"`)
    .join(' ');
const round = (n: number): string => String(Math.round(n * 100) / 100);

export function renderPlot(data: BootData): string {
  const { now } = data;
  const rows = data.units
    .map((u) => rowOf(u, now))
    .sort((a, b) => (a.start ?? Infinity) - (b.start ?? Infinity) || (a.unit.id < b.unit.id ? -1 : 1));
  const origin = originOf(data.units) || now;
  const opEnd = (o: TimelineOperation) => (o.end > 0 ? o.end : now);
  const last = Math.max(origin, ...rows.map((r) => r.end ?? origin), ...data.operations.map(opEnd));
  const span = Math.max(1000, last - origin);
  const x = (t: number) => LEFT + ((t - origin) * CHART_WIDTH) / span;
  const colours = kindColours(data.units);
  const labels = rows.map(label);
  const width = Math.ceil(LEFT + CHART_WIDTH + 8 + CHAR_PX * Math.max(30, ...labels.map((l) => l.length)) + LEFT);
  const height = AXIS_Y + 8 + rows.length * ROW + 24;
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n');
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" ${attrs({ width, height, viewBox: `0 0 ${width} ${height}` })}>\n`);
  out.push(`<rect ${attrs({ x: 0, y: 0, width, height, fill: '#ffffff' })}/>\n`);

  // Title: when the bring-up began, what became of it, how long it took.
  const active = rows.filter((r) => r.state === 'active');
  const failed = rows.filter((r) => r.state === 'failed').length;
  const activating = rows.filter((r) => r.state === 'activating').length;
  const finished = active.length > 0 ? Math.max(...active.map((r) => r.end ?? origin)) - origin : 0;
  const started = data.originRealtime ? `began ${formatTimestamp(data.originRealtime)}; ` : '';
  const summary = `${started}${rows.length} units: ${active.length} active (the last after ${formatTimespan(finished)}), ${failed} failed, ${activating} activating, ${rows.length - active.length - failed - activating} not started`;
  out.push(`<text ${FONT} ${attrs({ x: LEFT, y: 24, 'font-size': 16, 'font-weight': 'bold' })}>crtosd bring-up</text>\n`);
  out.push(`<text ${FONT} ${attrs({ x: LEFT, y: 44, 'font-size': 11 })}>${xmlEscape(summary)}</text>\n`);

  // Legend: a swatch per kind, then the operations and the states drawn apart.
  let lx = LEFT;
  const swatch = (text: string, a: Record<string, string | number>) => {
    out.push(`<rect ${attrs({ x: lx, y: 56, width: 14, height: 10, ...a })}/>`);
    out.push(`<text ${FONT} ${attrs({ x: lx + 18, y: 65, 'font-size': 11 })}>${xmlEscape(text)}</text>\n`);
    lx += 18 + CHAR_PX * text.length + 14;
  };
  for (const [kind, colour] of colours) swatch(kind, { fill: colour });
  swatch('operation', { fill: OPERATION_FILL, 'fill-opacity': 0.75 });
  swatch('failed', { fill: '#ffffff', stroke: FAILED, 'stroke-width': 2 });
  swatch('activating (to now)', { fill: PALETTE[0] ?? OPERATION_FILL, 'fill-opacity': 0.4 });
  swatch('not started', { fill: NEVER_FILL, width: 3 });

  // The time axis: ticks with labels, grid lines down through the rows.
  const step = tickStep(span);
  const bottom = height - 16;
  out.push(`<line ${attrs({ x1: LEFT, y1: AXIS_Y, x2: LEFT + CHART_WIDTH, y2: AXIS_Y, stroke: '#000000', 'stroke-width': 1 })}/>\n`);
  for (let t = 0; t <= span; t += step) {
    const tx = x(origin + t);
    out.push(`<line ${attrs({ x1: tx, y1: AXIS_Y - 4, x2: tx, y2: bottom, stroke: '#dddddd', 'stroke-width': 1 })}/>`);
    out.push(`<text ${FONT} ${attrs({ x: tx, y: AXIS_Y - 8, 'font-size': 10, 'text-anchor': 'middle' })}>${xmlEscape(tickLabel(t, step))}</text>\n`);
  }

  rows.forEach((r, i) => {
    const y = AXIS_Y + 8 + i * ROW;
    const id = r.unit.id;
    const fill = colours.get(r.unit.kind) ?? OPERATION_FILL;
    if (r.start === undefined || r.end === undefined) {
      out.push(`<rect ${attrs({ class: 'unit never', 'data-unit': id, 'data-kind': r.unit.kind, x: LEFT, y, width: 3, height: BAR, fill: NEVER_FILL })}><title>${xmlEscape(`${id}: not started`)}</title></rect>\n`);
      out.push(`<text ${FONT} ${attrs({ x: LEFT + 8, y: y + 12, 'font-size': 11, fill: '#666666' })}>${xmlEscape(labels[i] ?? id)}</text>\n`);
      return;
    }
    const x0 = x(r.start);
    const x1 = Math.max(x0 + 1, x(r.end));
    const look: Record<string, string | number> =
      r.state === 'failed' ? { stroke: FAILED, 'stroke-width': 2 } : r.state === 'activating' ? { 'fill-opacity': 0.4 } : {};
    out.push(
      `<rect ${attrs({ class: `unit ${r.state}`, 'data-unit': id, 'data-kind': r.unit.kind, x: x0, y, width: x1 - x0, height: BAR, fill, ...look })}><title>${xmlEscape(labels[i] ?? id)}</title></rect>\n`,
    );
    for (const o of data.operations.filter((op) => op.unit === id)) {
      const o0 = x(o.start);
      const o1 = Math.max(o0 + 1, x(opEnd(o)));
      const what = `${o.operation}${o.detail ? ` ${o.detail}` : ''}: @${formatTimespan(o.start - origin)} +${formatTimespan(opEnd(o) - o.start)}${o.result === 'done' ? '' : ` (${o.result})`}`;
      const opFill = o.result === 'failed' ? FAILED : OPERATION_FILL;
      // A hairline of white between operations that follow each other, so each is seen apart.
      out.push(
        `<rect ${attrs({ class: 'operation', 'data-unit': id, x: o0, y: y + BAR - OP - 1, width: o1 - o0, height: OP, fill: opFill, 'fill-opacity': 0.75, stroke: '#ffffff', 'stroke-width': 0.5 })}><title>${xmlEscape(what)}</title></rect>\n`,
      );
      // Its name inside when it fits: what the unit spent its time on, readable without a tooltip.
      if (o1 - o0 >= OP_CHAR_PX * o.operation.length + 4) {
        out.push(`<text ${FONT} ${attrs({ x: o0 + 2, y: y + BAR - 3, 'font-size': 7.5, fill: '#ffffff' })}>${xmlEscape(o.operation)}</text>\n`);
      }
    }
    out.push(`<text ${FONT} ${attrs({ x: x1 + 4, y: y + 12, 'font-size': 11 })}>${xmlEscape(labels[i] ?? id)}</text>\n`);
  });
  out.push('</svg>\n');
  return out.join('');
}
