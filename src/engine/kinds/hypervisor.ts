/**
 * Hypervisor. Jailhouse: active once `enabled` reads 1; start enables with the system
 * configuration, stop disables (which destroys every cell, so cells are stopped before it).
 * RTMux: the RT domain starts with its module; its image must already be in place.
 */
import type { UnitOf } from '../../units/types.js';
import { unitId } from '../../units/kinds/common.js';
import { sha256 } from '../canonical.js';
import type { Observation } from '../types.js';
import type { KindBehaviour } from './behaviour.js';
import { fail, hostStep, isErrno } from './common.js';

export const hypervisorBehaviour: KindBehaviour = {
  observe(target, snap): Observation {
    const type = target.facts.hypervisorType ?? 'jailhouse';
    if (type === 'jailhouse') {
      const enabled = snap.jailhouse.enabled;
      const details = { kind: 'Hypervisor' as const, type, enabled };
      return enabled ? { state: 'active', subState: 'enabled', details } : { state: 'inactive', subState: 'dead', details };
    }
    const loaded = snap.modules.has(target.facts.moduleName ?? '');
    const details = { kind: 'Hypervisor' as const, type, enabled: loaded };
    return loaded ? { state: 'active', subState: 'running', details } : { state: 'inactive', subState: 'dead', details };
  },

  async start(unit, ctx) {
    const h = unit as UnitOf<'Hypervisor'>;
    if (h.spec.type === 'jailhouse') {
      const status = await hostStep(h.id, 'reading the Jailhouse state', ctx.host.jailhouse());
      if (!status.enabled) {
        try {
          await ctx.timed(ctx.host.enableJailhouse(h.spec.system), h.spec.timeout, 'jailhouse enable');
        } catch (e) {
          if (!isErrno(e, 'EBUSY')) await hostStep(h.id, `jailhouse enable ${h.spec.system}`, Promise.reject(e));
        }
      }
      return { hypervisorType: 'jailhouse' };
    }
    // RTMux reads its image from a fixed path when the module loads; the Host cannot write files,
    // so the image must already be there with the pinned contents.
    const spec = h.spec;
    const moduleName = ctx.desc.facts.moduleName!;
    const image = ctx.set.units.get(unitId(spec.image, 'Image'));
    const placed = await ctx.host.readFile(spec.imagePath).catch(() => undefined);
    if (!placed) fail('ENGINE_UNSUPPORTED', h.id, `${spec.imagePath} does not exist; RTMux reads its image there`, `copy the image to ${spec.imagePath} (crtosd does not write machine files)`);
    if (image?.kind === 'Image' && image.spec.sha256 !== undefined && sha256(placed) !== image.spec.sha256) {
      fail('ENGINE_IMAGE_MISMATCH', h.id, `${spec.imagePath} does not have the sha256 ${unitId(spec.image, 'Image')} pins`);
    }
    const loaded = (await hostStep(h.id, 'reading /proc/modules', ctx.host.modules())).some((m) => m.name === moduleName);
    if (!loaded) await ctx.timed(hostStep(h.id, `insmod ${spec.module}`, ctx.host.loadModule({ path: spec.module, parameters: spec.parameters })), spec.timeout, 'insmod');
    return { hypervisorType: 'rtmux', moduleName };
  },

  async stop(target, ctx) {
    if ((target.facts.hypervisorType ?? 'jailhouse') === 'jailhouse') {
      const status = await hostStep(target.id, 'reading the Jailhouse state', ctx.host.jailhouse(), 'ENGINE_STOP_FAILED');
      if (!status.enabled) return;
      try {
        await ctx.timed(ctx.host.disableJailhouse(), 30_000, 'jailhouse disable');
      } catch (e) {
        if (!isErrno(e, 'EINVAL')) await hostStep(target.id, 'jailhouse disable', Promise.reject(e), 'ENGINE_STOP_FAILED');
      }
      return;
    }
    const name = target.facts.moduleName;
    if (name === undefined) return;
    if (!(await ctx.host.modules()).some((m) => m.name === name)) return;
    await ctx.timed(hostStep(target.id, `rmmod ${name}`, ctx.host.unloadModule(name), 'ENGINE_STOP_FAILED'), 30_000, 'rmmod');
  },
};
