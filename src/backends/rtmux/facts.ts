/** What an RTMux hypervisor records (see UnitFacts in src/engine/types.ts). */
declare module '../../engine/types.js' {
  interface UnitFacts {
    /** rtvmm's name as /proc/modules shows it. */
    moduleName?: string;
    /** sha256 of the image it places at imagePath (expected from the files, then what was placed). */
    imageSha256?: string;
  }
}
export {};
