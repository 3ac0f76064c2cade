/** What a cell on a remoteproc hypervisor records of itself (see UnitFacts in src/engine/types.ts). */
import type { RemoteprocCellConfig } from './definition.js';

/** The settings its operations write, and where its firmware goes: from its description. */
export interface RemoteprocFacts extends RemoteprocCellConfig {
  /** The Cell unit's name, for the files kept of it (its coredumps). */
  cell: string;
  /** The directory of the firmware search path its firmware is installed in (the hypervisor's firmwareDir). */
  firmwareDir: string;
  /** The name crtosd installs it under and writes to `firmware` (crtos-<processor>.elf). */
  firmwareName: string;
}

declare module '../../engine/types.js' {
  interface UnitFacts {
    remoteproc?: RemoteprocFacts;
  }
}
export {};
