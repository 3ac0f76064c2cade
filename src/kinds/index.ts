/** The table of unit kinds. Adding a kind is one module here (and its behaviour in src/engine/kinds/). */
import type { KindDefinition, KindName } from './spec-common.js';
import { driverKind } from './driver/spec.js';
import { hypervisorKind } from './hypervisor/spec.js';
import { imageKind } from './image/spec.js';
import { cellKind } from './cell/spec.js';
import { networkKind } from './network/spec.js';
import { loaderKind } from './loader/spec.js';

export * from './spec-common.js';
export * from './driver/spec.js';
export * from './hypervisor/spec.js';
export * from './image/spec.js';
export * from './cell/spec.js';
export * from './network/spec.js';
export * from './loader/spec.js';

export const KINDS: Record<KindName, KindDefinition> = {
  Driver: driverKind as unknown as KindDefinition,
  Hypervisor: hypervisorKind as unknown as KindDefinition,
  Image: imageKind as unknown as KindDefinition,
  Cell: cellKind as unknown as KindDefinition,
  Network: networkKind as unknown as KindDefinition,
  Loader: loaderKind as unknown as KindDefinition,
};
