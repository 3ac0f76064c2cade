/** Network: addresses on an interface (the ivshmem-net link) and the link up. */
import type { UnitOf } from '../../units/types.js';
import type { Observation } from '../types.js';
import type { KindBehaviour } from './behaviour.js';
import { fail, hostStep, isErrno, waitFor } from './common.js';

const INTERFACE_POLL_MS = 50;

export const networkBehaviour: KindBehaviour = {
  activeSubState: () => 'configured',
  observe(target, snap): Observation {
    const ifname = target.facts.interface ?? '';
    const wanted = target.facts.addresses ?? [];
    const wantUp = target.unit?.kind === 'Network' ? target.unit.spec.up : true;
    const info = snap.interfaces?.get(ifname);
    const details = { kind: 'Network' as const, interface: ifname, addresses: info?.addresses ?? [], up: info?.up ?? false };
    if (!info) return { state: 'inactive', subState: 'dead', details };
    const have = wanted.filter((a) => info.addresses.includes(a));
    if (have.length === wanted.length && (!wantUp || info.up)) return { state: 'active', subState: 'configured', details };
    return have.length === 0 && !info.up ? { state: 'inactive', subState: 'dead', details } : { state: 'partial', subState: 'configuring', details };
  },

  async start(unit, ctx) {
    const n = unit as UnitOf<'Network'>;
    let info = (await hostStep(n.id, 'ip addr show', ctx.host.interfaces())).find((i) => i.name === n.spec.interface);
    if (!info) {
      const appeared = await waitFor(async () => (info = (await ctx.host.interfaces()).find((i) => i.name === n.spec.interface)) !== undefined, n.spec.timeout, INTERFACE_POLL_MS, ctx.sleep);
      if (!appeared || !info) fail('ENGINE_TIMEOUT', n.id, `interface ${n.spec.interface} did not appear within ${n.spec.timeout} ms`, 'check that the driver creating it is loaded and its peer cell runs');
    }
    const present = new Set(info.addresses);
    for (const a of n.spec.address) {
      if (present.has(a)) continue;
      try {
        await ctx.timed(ctx.host.addAddress(n.spec.interface, a), n.spec.timeout, `ip addr add ${a}`);
      } catch (e) {
        if (!isErrno(e, 'EEXIST')) await hostStep(n.id, `ip addr add ${a} dev ${n.spec.interface}`, Promise.reject(e));
      }
    }
    if (n.spec.up && !info.up) await ctx.timed(hostStep(n.id, `ip link set ${n.spec.interface} up`, ctx.host.setLinkUp(n.spec.interface)), n.spec.timeout, 'ip link set up');
    return { interface: n.spec.interface, addresses: n.spec.address };
  },

  async stop(target, ctx) {
    const ifname = target.facts.interface;
    if (!ifname) return;
    const info = (await hostStep(target.id, 'ip addr show', ctx.host.interfaces(), 'ENGINE_STOP_FAILED')).find((i) => i.name === ifname);
    if (!info) return;
    for (const a of target.facts.addresses ?? []) {
      if (!info.addresses.includes(a)) continue;
      try {
        await ctx.timed(ctx.host.removeAddress(ifname, a), 10_000, `ip addr del ${a}`);
      } catch (e) {
        if (!isErrno(e, 'EADDRNOTAVAIL', 'ENODEV')) await hostStep(target.id, `ip addr del ${a} dev ${ifname}`, Promise.reject(e), 'ENGINE_STOP_FAILED');
      }
    }
  },
};
