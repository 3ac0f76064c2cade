/**
 * The one place problems become text. Compiler style for people:
 *
 *   units/crtos/nuttx.yaml:12:3: error[UNIT_UNKNOWN_FIELD]: unknown field 'onFailur' (nuttx.cell)
 *      12 |   onFailur: restart
 *         |   ^
 *     = hint: did you mean 'onFailure'?
 *
 * and JSON for scripts (`--json`).
 */
import type { Problem } from './problem.js';

export interface RenderOptions {
  color?: boolean;
  /** File texts by the name problems carry, to quote the offending line. */
  sources?: ReadonlyMap<string, string>;
}

const paint = (on: boolean, code: string, text: string): string => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

function location(p: Problem): string {
  if (!p.file) return '';
  if (p.line !== undefined) return `${p.file}:${p.line}:${p.column ?? 1}: `;
  if (p.offset !== undefined) return `${p.file}@0x${p.offset.toString(16)}: `;
  return `${p.file}: `;
}

function quote(p: Problem, sources: ReadonlyMap<string, string> | undefined, color: boolean): string[] {
  if (!p.file || p.line === undefined) return [];
  const text = sources?.get(p.file);
  if (text === undefined) return [];
  const line = text.split(/\r?\n/)[p.line - 1];
  if (line === undefined) return [];
  const gutter = String(p.line);
  const pad = ' '.repeat(gutter.length);
  const caretAt = Math.max(0, (p.column ?? 1) - 1);
  return [` ${gutter} | ${line}`, ` ${pad} | ${' '.repeat(caretAt)}${paint(color, '1;31', '^')}`];
}

export function renderProblem(p: Problem, opts: RenderOptions = {}): string {
  const color = opts.color ?? false;
  const severity = p.severity ?? 'error';
  const label = paint(color, severity === 'error' ? '1;31' : '1;33', `${severity}[${p.code}]`);
  const unit = p.unit ? ` (${p.unit})` : '';
  const lines = [`${location(p)}${label}: ${p.message}${unit}`, ...quote(p, opts.sources, color)];
  if (p.hint) lines.push(`  = hint: ${p.hint}`);
  return lines.join('\n') + '\n';
}

export function renderProblems(problems: readonly Problem[], opts: RenderOptions = {}): string {
  return problems.map((p) => renderProblem(p, opts)).join('');
}

/** Plain objects for `--json`: every field the problem has, severity filled in. */
export function problemsToJson(problems: readonly Problem[]): object[] {
  return problems.map((p) => ({ severity: 'error', ...p }));
}
