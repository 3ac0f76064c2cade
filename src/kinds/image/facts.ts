/** What an image records of itself (see UnitFacts in src/engine/types.ts). */
declare module '../../engine/types.js' {
  interface UnitFacts {
    /** Found with the pinned sha256. */
    verified?: boolean;
    /** Its file and the sha256 its unit pins, so its bytes are still checked when the set is refused. */
    imagePath?: string;
    pinnedSha256?: string;
  }
}
export {};
