/**
 * The built-in backend definitions, one registry line each: pure, so the Hypervisor kind's schema
 * (and with it crtosctl and `validate`) can list their `type:` values without loading engine code.
 */
import { registerBackendDefinition } from './registry.js';
import { jailhouseDefinition } from './jailhouse/definition.js';
import { rtmuxDefinition } from './rtmux/definition.js';
import { remoteprocDefinition } from './remoteproc/definition.js';

registerBackendDefinition(jailhouseDefinition);
registerBackendDefinition(rtmuxDefinition);
registerBackendDefinition(remoteprocDefinition);

export { backendDefinitions, backendGeneration, cellBackendDefinitions, findBackendDefinition, DEFAULT_BACKEND } from './registry.js';
export type { BackendDefinition, HypervisorUnit, HypervisorCommon } from './port.js';
