/**
 * The built-in unit kinds, one registry line each. A kind is one folder (src/kinds/NAME/): its
 * spec (schema, references, files, change table), view (D-Bus interface, status lines) and
 * behaviour (src/kinds/behaviours.ts registers those for the engine).
 */
import { registerKind } from './registry.js';
import { driverKind } from './driver/index.js';
import { hypervisorKind } from './hypervisor/index.js';
import { imageKind } from './image/index.js';
import { cellKind } from './cell/index.js';
import { networkKind } from './network/index.js';
import { loaderKind } from './loader/index.js';
import { linkKind } from './link/index.js';

registerKind(driverKind);
registerKind(hypervisorKind);
registerKind(imageKind);
registerKind(cellKind);
registerKind(networkKind);
registerKind(loaderKind);
registerKind(linkKind);

export * from './registry.js';
export * from './spec-common.js';
export * from './driver/spec.js';
export * from './hypervisor/spec.js';
export * from './image/spec.js';
export * from './cell/spec.js';
export * from './network/spec.js';
export * from './loader/spec.js';
export * from './link/spec.js';
