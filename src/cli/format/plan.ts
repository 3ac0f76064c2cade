/**
 * Text for a reload's outcome: the steps taken or planned, or the problems that stopped it. A
 * reload that was applied but had steps fail is not ok and has steps: each failed one is marked
 * and its problem shown.
 */
import type { ReloadOutcome } from '../../engine/manager-api.js';
import { isError } from '../../errors/problem.js';
import { renderProblems } from '../../errors/render.js';
import { bold, red, table, yellow, type Style } from './text.js';

export function renderOutcome(style: Style, o: ReloadOutcome, mode: 'applied' | 'planned'): string {
  if (!o.ok && o.steps.length > 0 && mode === 'applied') {
    const failedUnits = new Set(o.problems.filter(isError).map((p) => p.unit));
    const failed = o.steps.filter((s) => failedUnits.has(s.unit)).length;
    const rows = o.steps.map((s) => [bold(style, s.action), s.unit, s.reason, failedUnits.has(s.unit) ? red(style, 'failed') : 'done']);
    const head = red(style, `Reloaded, but ${failed || 'some'} of ${o.steps.length} step${o.steps.length === 1 ? '' : 's'} failed:`);
    return `${head}\n${table(rows, 2).map((l) => `  ${l}`).join('\n')}\n${renderProblems(o.problems, { color: style.color })}`;
  }
  if (!o.ok) {
    const head = mode === 'applied' ? 'Reload refused: the unit files have errors; the last good set keeps running.' : 'A reload would be refused: the unit files have errors.';
    return `${red(style, head)}\n${renderProblems(o.problems, { color: style.color })}`;
  }
  const warnings = o.problems.length ? renderProblems(o.problems, { color: style.color }) : '';
  const steps = o.steps.filter((s) => s.action !== 'pending');
  const held = heldSteps(style, o);
  if (steps.length === 0) return `${warnings}${mode === 'applied' ? 'Reloaded; nothing to change.' : held ? 'Nothing to do now.' : 'Nothing to do: the machine matches the unit files.'}\n${held}`;
  const rows = steps.map((s) => [bold(style, s.action), s.unit, s.reason]);
  const head = mode === 'applied' ? `Reloaded; ${steps.length} step${steps.length === 1 ? '' : 's'} applied:` : `A reload would take ${steps.length} step${steps.length === 1 ? '' : 's'}:`;
  return `${warnings}${head}\n${table(rows, 2).map((l) => `  ${l}`).join('\n')}\n${held}`;
}

/** The changes held until the operator asks (a re-enable destroys every cell): never applied by a reload. */
function heldSteps(style: Style, o: ReloadOutcome): string {
  const held = o.steps.filter((s) => s.action === 'pending');
  if (held.length === 0) return '';
  const rows = held.map((s) => [yellow(style, 'pending'), s.unit, s.reason]);
  return `Held until you ask (nothing of these is done now):\n${table(rows, 2).map((l) => `  ${l}`).join('\n')}\n`;
}
