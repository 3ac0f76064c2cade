/**
 * `crtosctl status` text: the systemctl layout for one unit (glyph, id, description; Loaded,
 * Drop-In, Active lines; then what its kind knows) and the overview of the daemon and all units.
 */
import type { DaemonStatus, LogLine, UnitStatus } from '../../engine/manager-api.js';
import type { UnitListEntry } from '../../dbus/client.js';
import { renderProblem } from '../../errors/render.js';
import { findView, kindOfUnitId, viewKindNames } from '../../kinds/views.js';
import { bold, byId, formatLogTime, grey, labelled, paintState, red, since, stateGlyph, table, treeGlyphs, yellow, type Style } from './text.js';

function dirname(p: string): string {
  const at = p.lastIndexOf('/');
  return at <= 0 ? (at === 0 ? '/' : '.') : p.slice(0, at);
}
const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** Drop-ins grouped by directory, systemd style: the directory, then its files as a tree (glyphs by the locale). */
export function dropInLines(style: Style, paths: readonly string[]): string {
  const glyph = treeGlyphs(style);
  const byDir = new Map<string, string[]>();
  for (const p of paths) byDir.set(dirname(p), [...(byDir.get(dirname(p)) ?? []), basename(p)]);
  const out: string[] = [];
  for (const [dir, files] of byDir) {
    out.push(dir);
    files.forEach((f, i) => out.push(`${i === files.length - 1 ? glyph.right : glyph.branch}${f}`));
  }
  return out.join('\n');
}

function activeLine(style: Style, u: UnitStatus, nowMs: number): string {
  const sub = u.activeState === 'failed' && u.result !== 'success' ? `Result: ${u.result}` : u.subState;
  const state = paintState(style, u.activeState, `${u.activeState} (${sub})`);
  const at = u.activeState === 'active' ? u.timestamps.activeEnter || u.timestamps.stateChange : u.timestamps.stateChange;
  return state + since(at, nowMs);
}

/** What the unit's kind shows of its details (src/kinds/NAME/view.ts); nothing for a kind crtosctl does not know. */
function kindLines(u: UnitStatus): [string, string][] {
  return findView(u.details.kind)?.statusLines(u.details) ?? [];
}

export function renderUnitStatus(style: Style, u: UnitStatus, log: readonly LogLine[], nowMs: number): string {
  const lines: [string, string][] = [['Loaded', `${u.loadState} (${u.sourcePath || 'no file'})`]];
  if (u.dropInPaths.length) lines.push(['Drop-In', dropInLines(style, u.dropInPaths)]);
  lines.push(['Active', activeLine(style, u, nowMs)]);
  if (u.job) lines.push(['Job', `${u.job.type} job ${u.job.id} (${u.job.state})`]);
  if (u.pendingChange) lines.push(['Pending', yellow(style, u.pendingChange)]);
  if (u.condition) lines.push(['Condition', u.condition]);
  lines.push(...kindLines(u));
  if (u.requires.length) lines.push(['Requires', u.requires.join(' ')]);
  if (u.wants.length) lines.push(['Wants', u.wants.join(' ')]);
  if (u.lastError) {
    const text = renderProblem(u.lastError, { color: style.color }).trimEnd();
    lines.push(['Last error', text.split('\n').map((l) => l.trim()).join('\n')]);
  }
  const head = `${stateGlyph(style, u.activeState)} ${bold(style, u.id)}${u.description ? ` - ${u.description}` : ''}`;
  const out = [head, ...labelled(lines, 11)];
  if (log.length) {
    out.push('');
    for (const l of log) {
      const text = `${formatLogTime(l.time)} ${l.unit ?? u.id}: ${l.message}`;
      out.push(l.level === 'error' ? red(style, text) : l.level === 'warn' ? yellow(style, text) : text);
    }
  }
  return out.join('\n') + '\n';
}

/** One line per kind whose view asks for it (the hypervisor): its units with their states. */
function overviewKindLines(style: Style, units: readonly UnitListEntry[]): [string, string][] {
  const lines: [string, string][] = [];
  for (const kind of viewKindNames()) {
    const label = findView(kind)?.overviewLabel;
    if (label === undefined) continue;
    const of = units.filter((u) => kindOfUnitId(u.id) === kind);
    lines.push([label, of.length ? of.map((u) => `${u.id} ${paintState(style, u.activeState, `${u.activeState} (${u.subState})`)}`).join('\n') : 'none configured']);
  }
  return lines;
}

export function renderOverview(style: Style, d: DaemonStatus & { nJobs: number }, units: readonly UnitListEntry[], nowMs: number): string {
  const count = (state: string): number => units.filter((u) => u.activeState === state).length;
  const summary = [`${count('active')} active`, `${count('failed')} failed`, `${units.length - count('active') - count('failed')} other`].join(', ');
  const stateText = d.systemState === 'degraded' ? red(style, d.systemState) : d.systemState === 'running' ? green2(style, d.systemState) : d.systemState;
  const glyphState = d.systemState === 'degraded' ? 'failed' : d.systemState === 'running' ? 'active' : 'activating';
  const lines: [string, string][] = [
    ['State', stateText],
    ['Units', `${units.length} loaded (${summary})`],
    ['Jobs', `${d.nJobs} queued`],
    ...overviewKindLines(style, units),
    ['Unit dirs', d.unitDirectories.join('\n') || '-'],
    ['Reconciled', d.lastReconcile ? since(d.lastReconcile, nowMs).replace(/^ since /, '') : 'not yet'],
  ];
  const out = [`${stateGlyph(style, glyphState)} ${bold(style, 'crtosd')} ${d.version}`, ...labelled(lines, 11)];
  if (d.lastLoadErrors.length) {
    out.push('', red(style, 'The last reload was not applied; the unit files have errors:'));
    for (const p of d.lastLoadErrors) out.push(renderProblem(p, { color: style.color }).trimEnd());
  }
  if (units.length) {
    out.push('');
    const rows = [...units].sort(byId).map((u) => [stateGlyph(style, u.activeState), u.id, paintState(style, u.activeState, `${u.activeState} (${u.subState})`), u.jobType ? `${u.jobType} job` : '', grey(style, u.description)]);
    out.push(...table(rows));
  }
  return out.join('\n') + '\n';
}

const green2 = (style: Style, t: string): string => paintState(style, 'active', t);
