/**
 * Link: placed by its hypervisor's backend (memory, PCI address) when the set is described; the
 * configurations generated from it carry it to the partitions. The unit itself is active once its
 * hypervisor runs and, when Linux is a peer, its device shows in the root cell (a PCI device in
 * sysfs), so the drivers that bind to it start after it.
 */
import type { UnitOf } from '../../units/types.js';
import type { Observation } from '../../engine/types.js';
import type { KindBehaviour } from '../behaviour.js';
import { fail, waitFor } from '../behaviour-common.js';
import { unitId, COMMON_CHANGES } from '../spec-common.js';
import { ROOT_PEER } from './spec.js';
import { placeLink } from './place.js';

const DEVICE_POLL_MS = 20;

/** Fields whose change is the configurations' change, so it waits with the hypervisor's re-enable. */
const OWN_ONLY = new Set([...Object.keys(COMMON_CHANGES), 'timeout']);

export const linkBehaviour: KindBehaviour = {
  activeSubState: () => 'present',
  paths: (target) => (target.facts.linkDevice ? [target.facts.linkDevice] : []),

  async describe(unit, ctx) {
    const link = unit as UnitOf<'Link'>;
    const hvId = unitId(link.spec.hypervisor, 'Hypervisor');
    const placed = await ctx.shared(`link-placement:${link.id}`, () => placeLink(link, ctx));
    const facts = { hypervisorType: placed.backend, ...('facts' in placed ? { link: placed.facts, ...(placed.device ? { linkDevice: placed.device } : {}) } : {}) };
    const fields = { placement: 'facts' in placed ? placed.facts : 'unplaced' };
    const heldWith = Object.fromEntries(['placement', ...Object.keys(link.spec)].filter((f) => !OWN_ONLY.has(f)).map((f) => [f, hvId]));
    return { fields, facts, heldWith, ...('problem' in placed ? { problem: placed.problem } : {}) };
  },

  observe(target, snap): Observation {
    const spec = target.unit?.kind === 'Link' ? (target.unit as UnitOf<'Link'>).spec : undefined;
    const device = target.facts.linkDevice ?? '';
    const present = device !== '' && snap.paths.get(device) === true;
    const enabled = snap.backends.get(target.facts.hypervisorType ?? '')?.enabled ?? false;
    const details = {
      kind: 'Link' as const,
      type: spec?.type ?? '',
      peers: spec?.peers.map((p) => (p.cell === ROOT_PEER ? ROOT_PEER : unitId(p.cell, 'Cell'))) ?? [],
      address: target.facts.link?.address ?? '',
      size: target.facts.link?.size ?? '',
      pci: target.facts.link?.pci ?? '',
      device,
      present,
    };
    // Without its device the link is not in the configuration the hypervisor runs (not yet, or no more).
    if (!enabled || (device !== '' && !present)) return { state: 'inactive', subState: 'dead', details };
    return { state: 'active', subState: 'present', details };
  },

  async start(unit, ctx) {
    const link = unit as UnitOf<'Link'>;
    if (ctx.desc.problem) fail(ctx.desc.problem.code, link.id, ctx.desc.problem.message, ctx.desc.problem.hint);
    const device = ctx.desc.facts.linkDevice;
    if (device !== undefined) {
      const appeared = await waitFor(() => ctx.host.exists(device), link.spec.timeout, DEVICE_POLL_MS, ctx.sleep);
      if (!appeared) {
        fail('ENGINE_TIMEOUT', link.id, `the link's device ${device} did not appear in the root cell within ${link.spec.timeout} ms`, `check that ${unitId(link.spec.hypervisor, 'Hypervisor')} runs the system configuration with this link (\`crtosctl status\` shows a pending re-enable)`);
      }
    }
    return ctx.desc.facts;
  },

  // Nothing of the machine is the link's own: its memory and device go with the configurations.
  async stop() {},
};
