/** What a network unit records of itself (see UnitFacts in src/engine/types.ts). */
declare module '../../engine/types.js' {
  interface UnitFacts {
    /** The interface and the addresses crtosd added (only those are removed on stop). */
    interface?: string;
    addresses?: string[];
  }
}
export {};
