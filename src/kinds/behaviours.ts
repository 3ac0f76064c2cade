/**
 * The engine's half of the kind registry: one behaviour per kind (systemd's unit vtable). Kept apart
 * from src/kinds/index.ts so crtosctl and `validate` never load engine code.
 */
import type { KindBehaviour } from './behaviour.js';
import { cellBehaviour } from './cell/behaviour.js';
import { driverBehaviour } from './driver/behaviour.js';
import { hypervisorBehaviour } from './hypervisor/behaviour.js';
import { imageBehaviour } from './image/behaviour.js';
import { loaderBehaviour } from './loader/behaviour.js';
import { networkBehaviour } from './network/behaviour.js';
import { linkBehaviour } from './link/behaviour.js';

export type { DescribeContext, KindBehaviour, KindContext, KindDescription, ProcessBehaviour, StopContext, Target } from './behaviour.js';
export { INVOCATION_ENV } from './behaviour.js';

const table = new Map<string, KindBehaviour>();

export function registerBehaviour(kind: string, behaviour: KindBehaviour): void {
  if (table.has(kind)) throw new Error(`kind ${kind} already has a behaviour`);
  table.set(kind, behaviour);
}

export function behaviourOf(kind: string): KindBehaviour {
  const b = table.get(kind);
  if (!b) throw new Error(`unit kind ${JSON.stringify(kind)} has no behaviour registered`);
  return b;
}

/** Whether the engine knows how to act on units of the kind. */
export function hasBehaviour(kind: string): boolean {
  return table.has(kind);
}

/** Whether units of the kind reload in place (KindBehaviour.reload). */
export function resumesStart(kind: string): boolean {
  return behaviourOf(kind).resumesStart === true;
}

export function canReload(kind: string): boolean {
  return behaviourOf(kind).reload !== undefined;
}

/** The kinds with a behaviour, in registration order. */
export function behaviourKinds(): string[] {
  return [...table.keys()];
}

registerBehaviour('Driver', driverBehaviour);
registerBehaviour('Hypervisor', hypervisorBehaviour);
registerBehaviour('Image', imageBehaviour);
registerBehaviour('Cell', cellBehaviour);
registerBehaviour('Network', networkBehaviour);
registerBehaviour('Loader', loaderBehaviour);
registerBehaviour('Link', linkBehaviour);
