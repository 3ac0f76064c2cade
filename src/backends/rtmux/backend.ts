/**
 * RTMux behind the backend port. rtvmm.ko has no parameters and no user-visible status; when it
 * loads it reads its RTOS image from a hard-coded path and jumps to it, and only rmmod stops the
 * RT domain. A missing image is not an error to the module (it prints "open file failed" and stays
 * loaded with nothing running), so the verified image is put in place before every insmod. Active
 * means: module loaded and the image in place is the one placed. It runs no cells, and its state
 * is the snapshot's (/proc/modules, the image's sha256): it has no status of its own to read or poll.
 */
import type { KindContext, StopContext, Target } from '../../kinds/behaviour.js';
import type { UnitFacts } from '../../engine/types.js';
import type { UnitOf } from '../../units/types.js';
import { unitId } from '../../kinds/spec-common.js';
import { driverModuleName } from '../../kinds/driver/spec.js';
import { fail, hostStep, isErrno, staged } from '../../kinds/behaviour-common.js';
import { verifiedImageSha256 } from '../../kinds/image/behaviour.js';
import { fileSha256 } from '../../kinds/image/digest.js';
import type { Backend } from '../port.js';
import { rtmuxDefinition, type RtmuxHypervisor } from './definition.js';

/** The placed image is read by the kernel as root only, but it is not secret: world-readable like /lib/firmware. */
const IMAGE_MODE = 0o644;
const UNLOAD_TIMEOUT_MS = 30_000;

function imagePathOf(target: Target): string | undefined {
  const spec = target.unit === undefined ? undefined : (target.unit as RtmuxHypervisor).spec;
  return spec?.type === rtmuxDefinition.type ? spec.imagePath : undefined;
}

/** The Image unit a hypervisor names, when it is in the set (its id says its kind). */
function imageUnit(ctx: KindContext, h: RtmuxHypervisor): UnitOf<'Image'> | undefined {
  return ctx.set.units.get(unitId(h.spec.image, 'Image')) as UnitOf<'Image'> | undefined;
}

export const rtmuxBackend: Backend = {
  definition: rtmuxDefinition as unknown as Backend['definition'],

  async describe(unit, ctx) {
    const hv = unit as RtmuxHypervisor;
    const facts: UnitFacts = { moduleName: driverModuleName({ path: hv.spec.module }) };
    const img = ctx.set.units.get(unitId(hv.spec.image, 'Image')) as UnitOf<'Image'> | undefined;
    if (!img) return { facts };
    const content = (await ctx.file(img.spec.path)).hash;
    if (content !== undefined) facts.imageSha256 = content;
    return { facts, fields: { image: { name: hv.spec.image, content: content ?? 'unreadable' } } };
  },

  hypervisor: {
    activeSubState: 'running',
    digests(target) {
      const path = imagePathOf(target);
      return path === undefined ? [] : [path];
    },
    observe(target, snap) {
      const loaded = snap.modules.has(target.facts.moduleName ?? '');
      if (!loaded) return { state: 'inactive', subState: 'dead', enabled: false };
      // A removed unit (no imagePath known) only needs to be unloaded: loaded is all that matters.
      const path = imagePathOf(target);
      if (path === undefined) return { state: 'active', subState: 'running', enabled: true };
      const inPlace = snap.digests?.get(path);
      // Another image in place (or none): the next insmod would start something else; start repairs it.
      if (inPlace === undefined || (target.facts.imageSha256 !== undefined && inPlace !== target.facts.imageSha256)) {
        return { state: 'partial', subState: inPlace === undefined ? 'image-missing' : 'image-changed', enabled: true };
      }
      return { state: 'active', subState: 'running', enabled: true };
    },
    async stage(unit, ctx) {
      const image = imageUnit(ctx, unit as RtmuxHypervisor);
      if (image) await verifiedImageSha256(ctx.host, image, unit.id);
    },
    enable: (unit, ctx) => startRtmux(unit as RtmuxHypervisor, ctx),
    async disable(target, ctx) {
      const name = target.facts.moduleName;
      if (name !== undefined) await unloadRtvmm(target.id, name, ctx, 'ENGINE_STOP_FAILED');
    },
  },
};

/**
 * Verify the image, take a module down that runs another image, place the image unless the same
 * bytes are already there, then insmod. Resumable: each step is skipped when the machine shows it done.
 */
async function startRtmux(h: RtmuxHypervisor, ctx: KindContext): Promise<UnitFacts> {
  const spec = h.spec;
  const moduleName = ctx.desc.facts.moduleName!;
  const image = imageUnit(ctx, h);
  const imageId = unitId(spec.image, 'Image');
  if (!image) fail('ENGINE_IMAGE_MISSING', h.id, `image unit ${imageId} is not loaded`, `add ${imageId} or fix \`image:\``);
  const wanted = await staged(() => verifiedImageSha256(ctx.host, image, h.id));
  const placed = await fileSha256(ctx.host, spec.imagePath).catch(() => undefined);
  const loaded = (await hostStep(h.id, 'reading /proc/modules', ctx.host.modules())).some((m) => m.name === moduleName);
  const facts: UnitFacts = { moduleName, imageSha256: wanted };
  if (loaded && placed === wanted) return facts;
  // The running RT domain read other bytes at its insmod: only rmmod stops it.
  if (loaded) await unloadRtvmm(h.id, moduleName, ctx, 'ENGINE_START_FAILED');
  if (placed !== wanted) {
    await ctx.timed(hostStep(h.id, `placing ${image.spec.path} at ${spec.imagePath}`, ctx.host.installFile(image.spec.path, spec.imagePath, { mode: IMAGE_MODE })), spec.timeout, 'image placement');
  }
  try {
    await ctx.timed((call) => ctx.host.loadModule({ path: spec.module, parameters: spec.parameters }, call), spec.timeout, `insmod ${spec.module}`);
  } catch (e) {
    // EEXIST: loaded meanwhile by someone else, after our image was placed: that is the goal.
    if (!isErrno(e, 'EEXIST')) await hostStep(h.id, `insmod ${spec.module}`, Promise.reject(e));
  }
  return facts;
}

async function unloadRtvmm(unit: string, name: string, ctx: KindContext | StopContext, code: 'ENGINE_STOP_FAILED' | 'ENGINE_START_FAILED'): Promise<void> {
  if (!(await hostStep(unit, 'reading /proc/modules', ctx.host.modules(), code)).some((m) => m.name === name)) return;
  try {
    await ctx.timed((call) => ctx.host.unloadModule(name, call), UNLOAD_TIMEOUT_MS, `rmmod ${name}`);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) await hostStep(unit, `rmmod ${name}`, Promise.reject(e), code);
  }
}
