/** What a Jailhouse hypervisor records (see UnitFacts in src/engine/types.ts). */
import type { RecordedPlacements } from './layout.js';

declare module '../../engine/types.js' {
  interface UnitFacts {
    /** Where its links are in the system configuration it was enabled with: kept there by later placements. */
    linkPlacements?: RecordedPlacements;
  }
}
export {};
