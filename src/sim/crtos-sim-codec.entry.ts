/** The cell codec as its own bundle, loaded by the stand-in jailhouse only when it reads a configuration. */
export { decodeConfig } from '../jailhouse/index.js';
