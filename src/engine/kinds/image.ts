/**
 * Image: nothing runs; the unit is active once its file was found with the pinned sha256. Cells
 * that require it are not started when it fails.
 */
import type { Host } from '../../host/host.js';
import type { UnitOf } from '../../units/types.js';
import { sha256 } from '../canonical.js';
import type { KindBehaviour } from './behaviour.js';
import { fail } from './common.js';

/**
 * The image's bytes, read once and checked against its pinned sha256 (a mismatch refuses). Shared
 * by every kind that hands an image to the machine, so all verify the same way; failures are
 * reported on `forUnit` (the image itself, or the unit that was about to use it).
 */
export async function readVerifiedImage(host: Host, img: UnitOf<'Image'>, forUnit: string = img.id): Promise<Buffer> {
  const which = forUnit === img.id ? img.spec.path : `image ${img.spec.path} (${img.id})`;
  let bytes: Buffer;
  try {
    bytes = await host.readFile(img.spec.path);
  } catch (e) {
    fail('ENGINE_IMAGE_MISSING', forUnit, `cannot read ${which}: ${(e as Error).message}`, `check \`path:\` of ${img.id}`);
  }
  if (img.spec.sha256 !== undefined) {
    const actual = sha256(bytes);
    if (actual !== img.spec.sha256) {
      fail('ENGINE_IMAGE_MISMATCH', forUnit, `${which} has sha256 ${actual}, expected ${img.spec.sha256}; not used`, `update \`sha256:\` of ${img.id} if the new file is intended`);
    }
  }
  return bytes;
}

export const imageBehaviour: KindBehaviour = {
  activeSubState: () => 'verified',
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
    await readVerifiedImage(ctx.host, unit as UnitOf<'Image'>);
    return { verified: true };
  },
  async stop() {},
};
