/**
 * Hypervisor: what its `type:` backend does (src/backends/). A unit in the set names its backend
 * by its spec; a removed one by the `hypervisorType` its description recorded (a record from
 * before backends were recorded ran on Jailhouse).
 */
import type { Unit } from '../../units/types.js';
import type { Observation } from '../../engine/types.js';
import type { KindBehaviour } from '../behaviour.js';
import { backendOf, backendOfFacts, type HypervisorCommon, type HypervisorUnit } from '../../backends/index.js';

const typeOf = (unit: Unit): string => (unit.spec as HypervisorCommon).type;

export const hypervisorBehaviour: KindBehaviour = {
  activeSubState: (unit) => backendOf(typeOf(unit)).hypervisor.activeSubState,
  lockGroup: (target) => backendOfFacts(target.facts).lockGroup,
  // What the backend folds in (a system configuration's bytes, an image's), and which backend it is.
  async describe(unit, ctx) {
    const b = backendOf(typeOf(unit));
    const d = (await b.describe?.(unit as HypervisorUnit, ctx)) ?? {};
    return { ...d, facts: { hypervisorType: b.definition.type, ...d.facts } };
  },
  digests: (target) => backendOfFacts(target.facts).hypervisor.digests?.(target) ?? [],
  observe(target, snap): Observation {
    const b = backendOfFacts(target.facts);
    const { state, subState, enabled } = b.hypervisor.observe(target, snap);
    return { state, subState, details: { kind: 'Hypervisor' as const, type: b.definition.type, enabled } };
  },
  stage: async (unit, ctx) => backendOf(typeOf(unit)).hypervisor.stage?.(unit as HypervisorUnit, ctx),
  async start(unit, ctx) {
    const b = backendOf(typeOf(unit));
    return { hypervisorType: b.definition.type, ...(await b.hypervisor.enable(unit as HypervisorUnit, ctx)) };
  },
  stop: (target, ctx) => backendOfFacts(target.facts).hypervisor.disable(target, ctx),
};
