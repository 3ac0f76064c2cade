/** What a Hypervisor or Cell unit records of its backend (see UnitFacts in src/engine/types.ts). */
declare module '../engine/types.js' {
  interface UnitFacts {
    /** The backend (the hypervisor's `type:`) the unit runs on; absent in records older than backends: jailhouse. */
    hypervisorType?: string;
  }
}
export {};
