/** Driver: a kernel module; active once loaded and every `provides` node exists. */
import type { Unit, UnitOf } from '../../units/types.js';
import type { Observation } from '../../engine/types.js';
import type { KindBehaviour } from '../behaviour.js';
import { fail, hostStep, isErrno, waitFor } from '../behaviour-common.js';
import { driverModuleName, type DriverSpec } from './spec.js';
import { resolveLinkValues } from '../link/place.js';
import { ProblemError } from '../../errors/problem.js';

const PROVIDES_POLL_MS = 20;

/** The driver's spec when the unit is in the set (a removed unit has only its recorded facts). */
function specOf(unit: Unit | undefined): DriverSpec | undefined {
  return unit?.kind === 'Driver' ? (unit as UnitOf<'Driver'>).spec : undefined;
}

export const driverBehaviour: KindBehaviour = {
  activeSubState: () => 'loaded',
  paths(target) {
    return specOf(target.unit)?.provides ?? [];
  },

  // A .ko file's contents are part of the description: a rebuilt module is loaded again.
  // Parameters taken from a link are its placement's values, so they change with its hypervisor's re-enable.
  async describe(unit, ctx) {
    const spec = specOf(unit)!;
    const parameters = await resolveLinkValues(unit, spec.parameters, ctx);
    const facts = { moduleName: driverModuleName(spec), unloadOnStop: spec.unloadOnStop, parameters: parameters.values };
    const linked = parameters.hypervisor ? { heldWith: { parameters: parameters.hypervisor } } : {};
    const fields = { parameters: parameters.values, ...(spec.path ? { path: { path: spec.path, content: (await ctx.file(spec.path)).hash ?? 'unreadable' } } : {}) };
    return { facts, fields, ...linked, ...(parameters.problem ? { problem: parameters.problem } : {}) };
  },

  observe(target, snap): Observation {
    const spec = specOf(target.unit);
    const name = target.facts.moduleName ?? '';
    const mod = snap.modules.get(name);
    const details = { kind: 'Driver' as const, module: name, parameters: mod?.parameters ?? {}, loaded: mod !== undefined };
    if (!mod) return { state: 'inactive', subState: 'dead', details };
    const missing = (spec?.provides ?? []).filter((p) => snap.paths.get(p) !== true);
    if (missing.length > 0) return { state: 'partial', subState: 'waiting', details };
    return { state: 'active', subState: 'loaded', details };
  },

  async start(unit, ctx) {
    const d = unit as UnitOf<'Driver'>;
    const name = ctx.desc.facts.moduleName!;
    const loaded = (await hostStep(d.id, 'reading /proc/modules', ctx.host.modules())).some((m) => m.name === name);
    if (!loaded) {
      if (ctx.desc.problem) throw new ProblemError(ctx.desc.problem);
      const parameters = ctx.desc.facts.parameters ?? {};
      const spec = d.spec.path !== undefined ? { path: d.spec.path, parameters } : { name: d.spec.module!, parameters };
      const what = d.spec.path !== undefined ? `insmod ${d.spec.path}` : `modprobe ${d.spec.module}`;
      try {
        await ctx.timed((call) => ctx.host.loadModule(spec, call), d.spec.timeout, what);
      } catch (e) {
        // EEXIST: loaded meanwhile (by us before a restart, or by someone else): that is the goal.
        if (!isErrno(e, 'EEXIST')) await hostStep(d.id, what, Promise.reject(e));
      }
    }
    if (d.spec.provides.length > 0) {
      const ok = await waitFor(async () => (await Promise.all(d.spec.provides.map((p) => ctx.host.exists(p)))).every(Boolean), d.spec.timeout, PROVIDES_POLL_MS, ctx.sleep);
      if (!ok) fail('ENGINE_TIMEOUT', d.id, `module ${name} is loaded but ${d.spec.provides.join(', ')} did not appear within ${d.spec.timeout} ms`, 'check the kernel log; the device may need a peer cell that is running');
    }
    return { moduleName: name, unloadOnStop: d.spec.unloadOnStop };
  },

  async stop(target, ctx) {
    const name = target.facts.moduleName;
    if (name === undefined || target.facts.unloadOnStop === false) return;
    const loaded = (await hostStep(target.id, 'reading /proc/modules', ctx.host.modules(), 'ENGINE_STOP_FAILED')).some((m) => m.name === name);
    if (!loaded) return;
    try {
      await ctx.timed((call) => ctx.host.unloadModule(name, call), 30_000, `rmmod ${name}`);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) await hostStep(target.id, `rmmod ${name}`, Promise.reject(e), 'ENGINE_STOP_FAILED');
    }
  },
};
