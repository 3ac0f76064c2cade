/** What a link unit records of itself (see UnitFacts in src/engine/types.ts). */
declare module '../../engine/types.js' {
  interface UnitFacts {
    /** What its backend placed: the values other units take from it (`rwAddress`: '0x100001000'). */
    link?: Record<string, string> & { size?: string; footprint?: string };
    /** The machine path that shows its device in the root cell (a PCI device in sysfs); none when Linux is no peer. */
    linkDevice?: string;
  }
}
export {};
