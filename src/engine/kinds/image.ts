/**
 * Image: nothing runs; the unit is active once its file was found with the pinned sha256. Cells
 * that require it are not started when it fails.
 */
import type { UnitOf } from '../../units/types.js';
import { sha256 } from '../canonical.js';
import type { KindBehaviour } from './behaviour.js';
import { fail } from './common.js';

export const imageBehaviour: KindBehaviour = {
  observe(target, snap) {
    const path = target.unit?.kind === 'Image' ? target.unit.spec.path : '';
    const sha = target.unit?.kind === 'Image' ? (target.unit.spec.sha256 ?? '') : '';
    const details = { kind: 'Image' as const, path, sha256: sha };
    // Active means verified: the engine records it after a successful start.
    return target.facts.verified && snap.paths.get(path) !== false
      ? { state: 'active', subState: 'verified', details }
      : { state: 'inactive', subState: 'dead', details };
  },
  paths(target) {
    return target.unit?.kind === 'Image' ? [target.unit.spec.path] : [];
  },
  async start(unit, ctx) {
    const img = unit as UnitOf<'Image'>;
    let bytes: Buffer;
    try {
      bytes = await ctx.host.readFile(img.spec.path);
    } catch (e) {
      fail('ENGINE_IMAGE_MISSING', img.id, `cannot read ${img.spec.path}: ${(e as Error).message}`, 'check `path:`');
    }
    if (img.spec.sha256 !== undefined && sha256(bytes) !== img.spec.sha256) {
      fail('ENGINE_IMAGE_MISMATCH', img.id, `${img.spec.path} has sha256 ${sha256(bytes)}, expected ${img.spec.sha256}`, 'update `sha256:` if the new file is intended');
    }
    return { verified: true };
  },
  async stop() {},
};
