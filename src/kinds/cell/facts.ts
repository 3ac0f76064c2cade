/** What a cell records of itself (see UnitFacts in src/engine/types.ts). */
declare module '../../engine/types.js' {
  interface UnitFacts {
    /** The cell's name from its configuration (the hypervisor knows it by that name); the CPUs it takes. */
    cellName?: string;
    cpus?: number[];
    /**
     * A copy of the configuration it was last created from and started with (machine path): put
     * back when the hypervisor refuses the configuration that replaces it.
     */
    lastGoodConfig?: string;
    /** The machine path it is created from: the configuration crtosd wrote (generated, encoded) or the unit's own file. */
    configPath?: string;
  }
}
export {};
