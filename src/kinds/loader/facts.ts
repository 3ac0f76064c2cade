/** What a loader records of itself besides its process (see UnitFacts in src/engine/types.ts). */
declare module '../../engine/types.js' {
  interface UnitFacts {
    /** How it is stopped, so a loader whose unit file is gone is still stopped its way. */
    stopSignal?: string;
    stopTimeout?: number;
  }
}
export {};
