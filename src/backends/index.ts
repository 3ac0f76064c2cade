/**
 * The engine's half of the backend registry: the built-in backends, one registry line each. Kept
 * apart from definitions.ts (pure) so crtosctl and `validate` never load code that acts.
 */
import './definitions.js';
import { registerBackend } from './registry.js';
import { jailhouseBackend } from './jailhouse/backend.js';
import { rtmuxBackend } from './rtmux/backend.js';
import { remoteprocBackend } from './remoteproc/backend.js';
import './remoteproc/facts.js';

registerBackend(jailhouseBackend);
registerBackend(rtmuxBackend);
registerBackend(remoteprocBackend);

export * from './registry.js';
export type * from './port.js';
