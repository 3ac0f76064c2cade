/** Network: addresses on an interface (the ivshmem-net link) and the link up. */
import type { UnitOf } from '../../units/types.js';
import type { Observation } from '../../engine/types.js';
import type { InterfaceInfo } from '../../host/host.js';
import type { KindBehaviour, KindContext } from '../behaviour.js';
import { fail, hostStep, isErrno, waitFor } from '../behaviour-common.js';
import { resolveLinkValues } from '../link/place.js';
import { ProblemError } from '../../errors/problem.js';

const INTERFACE_POLL_MS = 50;
const STOP_TIMEOUT_MS = 10_000;
const LAST_LOOK_MS = 1000;

export const networkBehaviour: KindBehaviour = {
  activeSubState: () => 'configured',
  observesInterfaces: true,
  // An interface taken from a link is the name its device becomes: it changes with its placement.
  async describe(unit, ctx) {
    const spec = (unit as UnitOf<'Network'>).spec;
    if (typeof spec.interface === 'string') return { facts: { interface: spec.interface, addresses: spec.address } };
    const r = await resolveLinkValues(unit, { interface: spec.interface }, ctx);
    const name = r.values.interface ?? '';
    return {
      fields: { interface: name },
      facts: { interface: name, addresses: spec.address },
      ...(r.hypervisor ? { heldWith: { interface: r.hypervisor } } : {}),
      ...(r.problem ? { problem: r.problem } : {}),
    };
  },
  observe(target, snap): Observation {
    const ifname = target.facts.interface ?? '';
    const wanted = target.facts.addresses ?? [];
    const wantUp = target.unit?.kind === 'Network' ? (target.unit as UnitOf<'Network'>).spec.up : true;
    const info = snap.interfaces?.get(ifname);
    const details = { kind: 'Network' as const, interface: ifname, addresses: info?.addresses ?? [], up: info?.up ?? false };
    if (!info) return { state: 'inactive', subState: 'dead', details };
    const have = wanted.filter((a) => info.addresses.includes(a));
    if (have.length === wanted.length && (!wantUp || info.up)) return { state: 'active', subState: 'configured', details };
    return have.length === 0 && !info.up ? { state: 'inactive', subState: 'dead', details } : { state: 'partial', subState: 'configuring', details };
  },

  async start(unit, ctx) {
    const n = unit as UnitOf<'Network'>;
    if (ctx.desc.problem) throw new ProblemError(ctx.desc.problem);
    const ifname = ctx.desc.facts.interface!;
    // Every `ip` run within the unit's timeout, the interface's wait included (the last look gets a second).
    const deadline = Date.now() + n.spec.timeout;
    const find = async () => (await listInterfaces(n.id, ctx, Math.max(LAST_LOOK_MS, deadline - Date.now()), 'ENGINE_START_FAILED')).find((i) => i.name === ifname);
    let info = await find();
    if (!info) {
      const appeared = await waitFor(async () => (info = await find()) !== undefined, Math.max(0, deadline - Date.now()), INTERFACE_POLL_MS, ctx.sleep);
      if (!appeared || !info) fail('ENGINE_TIMEOUT', n.id, `interface ${ifname} did not appear within ${n.spec.timeout} ms`, 'check that the driver creating it is loaded and its peer cell runs');
    }
    const present = new Set(info.addresses);
    for (const a of n.spec.address) {
      if (present.has(a)) continue;
      try {
        await ctx.timed((call) => ctx.host.addAddress(ifname, a, call), n.spec.timeout, `ip addr add ${a} dev ${ifname}`);
      } catch (e) {
        if (!isErrno(e, 'EEXIST')) await hostStep(n.id, `ip addr add ${a} dev ${ifname}`, Promise.reject(e));
      }
    }
    if (n.spec.up && !info.up) {
      await ctx.timed((call) => hostStep(n.id, `ip link set ${ifname} up`, ctx.host.setLinkUp(ifname, call)), n.spec.timeout, `ip link set dev ${ifname} up`);
    }
    return { interface: ifname, addresses: n.spec.address };
  },

  async stop(target, ctx) {
    const ifname = target.facts.interface;
    if (!ifname) return;
    const info = (await listInterfaces(target.id, ctx, STOP_TIMEOUT_MS, 'ENGINE_STOP_FAILED')).find((i) => i.name === ifname);
    if (!info) return;
    for (const a of target.facts.addresses ?? []) {
      if (!info.addresses.includes(a)) continue;
      try {
        await ctx.timed((call) => ctx.host.removeAddress(ifname, a, call), STOP_TIMEOUT_MS, `ip addr del ${a} dev ${ifname}`);
      } catch (e) {
        if (!isErrno(e, 'EADDRNOTAVAIL', 'ENODEV')) await hostStep(target.id, `ip addr del ${a} dev ${ifname}`, Promise.reject(e), 'ENGINE_STOP_FAILED');
      }
    }
  },
};

/** `ip addr show`, bounded like the unit's other `ip` runs. */
function listInterfaces(unit: string, ctx: Pick<KindContext, 'host' | 'timed'>, ms: number, code: 'ENGINE_START_FAILED' | 'ENGINE_STOP_FAILED'): Promise<InterfaceInfo[]> {
  return ctx.timed((call) => hostStep(unit, 'ip addr show', ctx.host.interfaces(call), code), ms, 'ip addr show');
}
