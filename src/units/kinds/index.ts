/** The table of unit kinds. Adding a kind is one module here (and its behaviour in src/engine/kinds/). */
import type { KindDefinition, KindName } from './common.js';
import { driverKind } from './driver.js';
import { hypervisorKind } from './hypervisor.js';
import { imageKind } from './image.js';
import { cellKind } from './cell.js';
import { networkKind } from './network.js';
import { loaderKind } from './loader.js';

export * from './common.js';
export * from './driver.js';
export * from './hypervisor.js';
export * from './image.js';
export * from './cell.js';
export * from './network.js';
export * from './loader.js';

export const KINDS: Record<KindName, KindDefinition> = {
  Driver: driverKind as unknown as KindDefinition,
  Hypervisor: hypervisorKind as unknown as KindDefinition,
  Image: imageKind as unknown as KindDefinition,
  Cell: cellKind as unknown as KindDefinition,
  Network: networkKind as unknown as KindDefinition,
  Loader: loaderKind as unknown as KindDefinition,
};
