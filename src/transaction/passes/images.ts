/**
 * Every Image's file has the sha256 its unit pins. A file replaced or tampered with on disk is
 * refused here, with the digest found, before any cell is shut down to load it.
 */
import type { Problem } from '../../errors/problem.js';
import { FILE_HINT, unitProblem, type Pass } from '../context.js';

export const imagesPass: Pass = async (ctx) => {
  const machine = ctx.machine;
  if (!machine) return [];
  const out: Problem[] = [];
  for (const unit of ctx.set.units.values()) {
    if (unit.kind !== 'Image') continue;
    const file = await machine.read(unit.spec.path);
    const where = unit.spec.path;
    if ('error' in file) {
      // A missing file is the files pass's finding.
      if (!file.missing) out.push(unitProblem(ctx, unit, ['path'], 'UNIT_FILE_MISSING', `'path' names ${where}, which ${file.error}`, FILE_HINT));
      continue;
    }
    if (unit.spec.sha256 !== undefined && file.sha256 !== unit.spec.sha256) {
      out.push(
        unitProblem(ctx, unit, ['sha256'], 'UNIT_IMAGE_MISMATCH', `${where} has sha256 ${file.sha256}, but ${unit.id} pins ${unit.spec.sha256}`, 'restore the file; if the new file is intended, write its sha256 in `sha256:`'),
      );
    }
  }
  return out;
};
