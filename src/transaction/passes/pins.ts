/**
 * Every file a unit pins (an Image's file) has the sha256 the unit gives. A file replaced or
 * tampered with on disk is refused here, with the digest found, before any cell is shut down to
 * load it. The kinds say what they pin (their definitions' `pins`).
 */
import type { Problem } from '../../errors/problem.js';
import { definitionOf } from '../../kinds/index.js';
import { fieldPath, FILE_HINT, unitProblem, type Pass } from '../context.js';

export const pinsPass: Pass = async (ctx) => {
  const machine = ctx.machine;
  if (!machine) return [];
  const out: Problem[] = [];
  for (const unit of ctx.set.units.values()) {
    for (const pin of definitionOf(unit.kind).pins?.(unit.spec as never) ?? []) {
      const file = await machine.read(pin.path);
      const where = pin.path;
      if ('error' in file) {
        // A missing file is the files pass's finding.
        if (!file.missing) out.push(unitProblem(ctx, unit, fieldPath(pin.field), 'UNIT_FILE_MISSING', `'${pin.field}' names ${where}, which ${file.error}`, FILE_HINT));
        continue;
      }
      if (pin.sha256 !== undefined && file.sha256 !== pin.sha256) {
        out.push(
          unitProblem(ctx, unit, fieldPath(pin.pinField), 'UNIT_IMAGE_MISMATCH', `${where} has sha256 ${file.sha256}, but ${unit.id} pins ${pin.sha256}`, `restore the file; if the new file is intended, write its sha256 in \`${pin.pinField}:\``),
        );
      }
    }
  }
  return out;
};
