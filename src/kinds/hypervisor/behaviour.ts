/**
 * Hypervisor. Jailhouse: active once `enabled` reads 1; start enables with the system
 * configuration, stop disables (which destroys every cell, so cells are stopped before it).
 *
 * RTMux (reference/deployments.md §2): rtvmm.ko has no parameters and no user-visible status; when
 * it loads it reads its RTOS image from a hard-coded path and jumps to it, and only rmmod stops
 * the RT domain. A missing image is not an error to the module (it prints "open file failed" and
 * stays loaded with nothing running), so the engine makes sure the verified image is in place
 * before every insmod. Active means: module loaded and the image in place is the one placed.
 */
import type { Unit, UnitOf } from '../../units/types.js';
import { unitId } from '../spec-common.js';
import { driverModuleName } from '../driver/spec.js';
import { imageSpecOf } from '../image/spec.js';
import type { HypervisorSpec } from './spec.js';
import { sha256 } from '../../engine/canonical.js';
import type { Observation, UnitFacts } from '../../engine/types.js';
import type { KindBehaviour, KindContext, StopContext, Target } from '../behaviour.js';
import { fail, hostStep, isErrno, staged } from '../behaviour-common.js';
import { readVerifiedImage } from '../image/behaviour.js';

/** The placed image is read by the kernel as root only, but it is not secret: world-readable like /lib/firmware. */
const IMAGE_MODE = 0o644;
const UNLOAD_TIMEOUT_MS = 30_000;

/** The hypervisor's spec when the unit is in the set (a removed unit has only its recorded facts). */
function specOf(unit: Unit | undefined): HypervisorSpec | undefined {
  return unit?.kind === 'Hypervisor' ? (unit as UnitOf<'Hypervisor'>).spec : undefined;
}

function imagePathOf(target: Target): string | undefined {
  const spec = specOf(target.unit);
  return spec?.type === 'rtmux' ? spec.imagePath : undefined;
}

export const hypervisorBehaviour: KindBehaviour = {
  activeSubState: (unit) => (specOf(unit)?.type === 'jailhouse' ? 'enabled' : 'running'),
  // `jailhouse enable` and `disable` take the driver's one lock, as the cells' commands do.
  lockGroup: () => 'jailhouse',
  // The system configuration's bytes (Jailhouse) or the image's (RTMux) are part of the description.
  async describe(unit, ctx) {
    const spec = specOf(unit)!;
    if (spec.type === 'jailhouse') {
      const sys = await ctx.file(spec.system);
      return { facts: { hypervisorType: spec.type }, fields: { system: { path: spec.system, content: sys.hash ?? 'unreadable' } } };
    }
    const facts: UnitFacts = { hypervisorType: spec.type, moduleName: driverModuleName({ path: spec.module }) };
    const img = imageSpecOf(ctx.set.units.get(unitId(spec.image, 'Image')));
    if (!img) return { facts };
    const content = (await ctx.file(img.path)).hash;
    if (content !== undefined) facts.imageSha256 = content;
    return { facts, fields: { image: { name: spec.image, content: content ?? 'unreadable' } } };
  },
  digests(target) {
    const path = imagePathOf(target);
    return path === undefined ? [] : [path];
  },

  observe(target, snap): Observation {
    const type = target.facts.hypervisorType ?? 'jailhouse';
    if (type === 'jailhouse') {
      const enabled = snap.jailhouse.enabled;
      const details = { kind: 'Hypervisor' as const, type, enabled };
      return enabled ? { state: 'active', subState: 'enabled', details } : { state: 'inactive', subState: 'dead', details };
    }
    const loaded = snap.modules.has(target.facts.moduleName ?? '');
    const details = { kind: 'Hypervisor' as const, type, enabled: loaded };
    if (!loaded) return { state: 'inactive', subState: 'dead', details };
    // A removed unit (no imagePath known) only needs to be unloaded: loaded is all that matters.
    const path = imagePathOf(target);
    if (path === undefined) return { state: 'active', subState: 'running', details };
    const inPlace = snap.digests?.get(path);
    // Another image in place (or none): the next insmod would start something else; start repairs it.
    if (inPlace === undefined || (target.facts.imageSha256 !== undefined && inPlace !== target.facts.imageSha256)) {
      return { state: 'partial', subState: inPlace === undefined ? 'image-missing' : 'image-changed', details };
    }
    return { state: 'active', subState: 'running', details };
  },

  async stage(unit, ctx) {
    const h = unit as UnitOf<'Hypervisor'>;
    if (h.spec.type !== 'rtmux') return;
    const image = ctx.set.units.get(unitId(h.spec.image, 'Image'));
    if (imageSpecOf(image)) await readVerifiedImage(ctx.host, image as UnitOf<'Image'>, h.id);
  },

  async start(unit, ctx) {
    const h = unit as UnitOf<'Hypervisor'>;
    if (h.spec.type === 'rtmux') return startRtmux(h as RtmuxUnit, ctx);
    const spec = h.spec;
    const status = await hostStep(h.id, 'reading the Jailhouse state', ctx.host.jailhouse());
    if (!status.enabled) {
      try {
        await ctx.timed((call) => ctx.host.enableJailhouse(spec.system, call), spec.timeout, `jailhouse enable ${spec.system}`);
      } catch (e) {
        if (!isErrno(e, 'EBUSY')) await hostStep(h.id, `jailhouse enable ${spec.system}`, Promise.reject(e));
      }
    }
    return { hypervisorType: 'jailhouse' };
  },

  async stop(target, ctx) {
    if ((target.facts.hypervisorType ?? 'jailhouse') === 'jailhouse') {
      const status = await hostStep(target.id, 'reading the Jailhouse state', ctx.host.jailhouse(), 'ENGINE_STOP_FAILED');
      if (!status.enabled) return;
      try {
        await ctx.timed((call) => ctx.host.disableJailhouse(call), UNLOAD_TIMEOUT_MS, 'jailhouse disable');
      } catch (e) {
        if (!isErrno(e, 'EINVAL')) await hostStep(target.id, 'jailhouse disable', Promise.reject(e), 'ENGINE_STOP_FAILED');
      }
      return;
    }
    const name = target.facts.moduleName;
    if (name === undefined) return;
    await unloadRtvmm(target.id, name, ctx, 'ENGINE_STOP_FAILED');
  },
};

type RtmuxUnit = UnitOf<'Hypervisor'> & { spec: { type: 'rtmux' } };

/**
 * Verify the image, take a module down that runs another image, place the image unless the same
 * bytes are already there, then insmod. Resumable: each step is skipped when the machine shows it done.
 */
async function startRtmux(h: RtmuxUnit, ctx: KindContext): Promise<UnitFacts> {
  const spec = h.spec;
  const moduleName = ctx.desc.facts.moduleName!;
  const imageId = unitId(spec.image, 'Image');
  const found = ctx.set.units.get(imageId);
  if (!imageSpecOf(found)) fail('ENGINE_IMAGE_MISSING', h.id, `image unit ${imageId} is not loaded`, `add ${imageId} or fix \`image:\``);
  const image = found as UnitOf<'Image'>;
  const wanted = sha256(await staged(() => readVerifiedImage(ctx.host, image, h.id)));
  const placed = await ctx.host.readFile(spec.imagePath).then(sha256, () => undefined);
  const loaded = (await hostStep(h.id, 'reading /proc/modules', ctx.host.modules())).some((m) => m.name === moduleName);
  const facts: UnitFacts = { hypervisorType: 'rtmux', moduleName, imageSha256: wanted };
  if (loaded && placed === wanted) return facts;
  // The running RT domain read other bytes at its insmod: only rmmod stops it.
  if (loaded) await unloadRtvmm(h.id, moduleName, ctx, 'ENGINE_START_FAILED');
  if (placed !== wanted) {
    await ctx.timed(
      hostStep(h.id, `placing ${image.spec.path} at ${spec.imagePath}`, ctx.host.installFile(image.spec.path, spec.imagePath, { mode: IMAGE_MODE })),
      spec.timeout,
      'image placement',
    );
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
