/** One unit against its kind's schema: merge its layers, parse, and turn issues into problems. */
import type { Problem } from '../errors/problem.js';
import { definitionOf } from '../kinds/index.js';
import type { Unit } from './types.js';
import { mergeValues } from './merge.js';
import { issuesToProblems } from './issues.js';
import type { BuildContext, Candidate } from './build-context.js';
import { checkSpecifiers } from '../conditions/check-specifiers.js';

/** Sets `candidate.unit` when the unit is valid; reports every issue otherwise. */
export function checkUnit(ctx: BuildContext, candidate: Candidate): void {
  const [base, ...dropIns] = candidate.layers;
  const merged = dropIns.reduce((acc, layer) => mergeValues(acc, layer.value), base!.value);
  candidate.merged = merged;
  const schema = definitionOf(candidate.kind).schema;
  const result = schema.safeParse(merged);
  if (result.success) {
    candidate.unit = {
      id: candidate.id,
      kind: candidate.kind,
      name: candidate.name,
      spec: result.data,
      source: { file: base!.file, line: base!.line, column: base!.column, dropIns: [...new Set(dropIns.map((l) => l.file))] },
    } as Unit;
    checkSpecifiers(ctx, candidate);
    return;
  }
  for (const p of issuesToProblems(result.error.issues, schema, merged)) {
    const extra: Partial<Problem> = {};
    if (candidate.name !== '') extra.unit = candidate.id;
    if (p.hint) extra.hint = p.hint;
    ctx.report(p.code, p.message, ctx.locateIn(candidate, p.path, p.atKey), extra);
  }
}
