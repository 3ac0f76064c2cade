/**
 * The machine-independent check of specifiers, when a unit file is loaded: every `%` in a string
 * that takes specifiers starts a known one (or `%%`), else UNIT_UNKNOWN_SPECIFIER at its column.
 */
import { definitionOf } from '../kinds/index.js';
import { formatPath } from '../units/issues.js';
import type { BuildContext, Candidate } from '../units/build-context.js';
import { SPECIFIERS, specifierStrings, unknownSpecifiers } from './specifiers.js';

const KNOWN = Object.keys(SPECIFIERS)
  .map((c) => `%${c}`)
  .join(' ');

export function checkSpecifiers(ctx: BuildContext, candidate: Candidate): void {
  const unit = candidate.unit!;
  const references = new Set(definitionOf(unit.kind).references(unit.spec as never).map((r) => r.field));
  for (const { path, text } of specifierStrings(candidate.merged, references)) {
    if (!text.includes('%')) continue;
    for (const offset of unknownSpecifiers(text)) {
      const at = ctx.locateIn(candidate, path);
      // A single-line scalar: the `%` sits that far into it (after its quote, if quoted).
      const quoted = ctx.charAt(at) === '"' || ctx.charAt(at) === "'" ? 1 : 0;
      const spec = text.slice(offset, offset + 2);
      ctx.report('UNIT_UNKNOWN_SPECIFIER', `'${formatPath(path)}' has the unknown specifier '${spec}'`, { ...at, column: at.column + quoted + offset }, {
        unit: candidate.id,
        hint: `specifiers are ${KNOWN}; write %% for a literal %`,
      });
    }
  }
}
