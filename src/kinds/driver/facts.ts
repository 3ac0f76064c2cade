/** What a driver records of itself (see UnitFacts in src/engine/types.ts). */
declare module '../../engine/types.js' {
  interface UnitFacts {
    /** The module name as /proc/modules shows it. */
    moduleName?: string;
    unloadOnStop?: boolean;
    /** The parameters it is loaded with, values taken from links resolved. */
    parameters?: Record<string, string>;
  }
}
export {};
