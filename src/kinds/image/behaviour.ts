/**
 * Image: nothing runs; the unit is active once its file was found with the pinned sha256. Cells
 * that require it are not started when it fails.
 */
import type { Host } from '../../host/host.js';
import type { UnitOf } from '../../units/types.js';
import type { KindBehaviour, Target } from '../behaviour.js';
import { problem } from '../../errors/problem.js';
import { fail } from '../behaviour-common.js';
import { imageSpecOf } from './spec.js';
import { fileSha256 } from './digest.js';

/**
 * The image's sha256, read and checked against its pinned one (a mismatch refuses). Shared by every
 * kind that hands an image to the machine, so all verify the same way; failures are reported on
 * `forUnit` (the image itself, or the unit that was about to use it).
 */
export async function verifiedImageSha256(host: Host, img: UnitOf<'Image'>, forUnit: string = img.id): Promise<string> {
  const which = forUnit === img.id ? img.spec.path : `image ${img.spec.path} (${img.id})`;
  let actual: string;
  try {
    actual = await fileSha256(host, img.spec.path);
  } catch (e) {
    fail('ENGINE_IMAGE_MISSING', forUnit, `cannot read ${which}: ${(e as Error).message}`, `check \`path:\` of ${img.id}`);
  }
  if (img.spec.sha256 !== undefined && actual !== img.spec.sha256) {
    fail('ENGINE_IMAGE_MISMATCH', forUnit, `${which} has sha256 ${actual}, expected ${img.spec.sha256}; not used`, `update \`sha256:\` of ${img.id} if the new file is intended`);
  }
  return actual;
}

/** The file and pin of an Image target: from its unit, else from what was applied (a refused set). */
function imageOf(target: Target): { path: string; pin: string | undefined } {
  const spec = imageSpecOf(target.unit);
  if (spec) return { path: spec.path, pin: spec.sha256 };
  return { path: target.facts.imagePath ?? '', pin: target.facts.pinnedSha256 };
}

export const imageBehaviour: KindBehaviour = {
  activeSubState: () => 'verified',
  // Nothing runs to start: verifying the file is no tool run.
  launchCost: 0,
  async describe(unit, ctx) {
    const spec = imageSpecOf(unit)!;
    const file = await ctx.file(spec.path);
    return {
      fields: { path: { path: spec.path, content: file.hash ?? 'unreadable' } },
      facts: { imagePath: spec.path, ...(spec.sha256 !== undefined ? { pinnedSha256: spec.sha256 } : {}) },
    };
  },
  observe(target, snap) {
    const { path, pin } = imageOf(target);
    const details = { kind: 'Image' as const, path, sha256: pin ?? '' };
    // Active means verified: the engine records it after a successful start, and the bytes on
    // disk still have the pinned digest (the state tells the truth about the file, not about the past).
    if (!target.facts.verified) return { state: 'inactive', subState: 'dead', details };
    if (snap.paths.get(path) === false) {
      const gone = problem('ENGINE_IMAGE_MISSING', `${path} is gone; it is not loaded anywhere until it is back`, { unit: target.id, hint: `restore the file, or correct \`path:\` of ${target.id}` });
      return { state: 'failed', subState: 'missing', details, problem: gone };
    }
    const found = pin === undefined ? undefined : snap.digests?.get(path);
    if (pin !== undefined && found !== undefined && found !== pin) {
      return {
        state: 'failed',
        subState: 'mismatch',
        details,
        problem: problem('ENGINE_IMAGE_MISMATCH', `${path} has sha256 ${found}, but ${target.id} pins ${pin}; it is not loaded anywhere`, {
          unit: target.id,
          hint: `restore the file; if the new file is intended, write its sha256 in \`sha256:\` of ${target.id}`,
        }),
      };
    }
    return { state: 'active', subState: 'verified', details };
  },
  paths(target) {
    const { path } = imageOf(target);
    return path ? [path] : [];
  },
  digests(target) {
    const { path, pin } = imageOf(target);
    return path && pin !== undefined ? [path] : [];
  },
  async start(unit, ctx) {
    const image = unit as UnitOf<'Image'>;
    await verifiedImageSha256(ctx.host, image);
    return { verified: true, imagePath: image.spec.path, ...(image.spec.sha256 === undefined ? {} : { pinnedSha256: image.spec.sha256 }) };
  },
  async stop() {},
};
