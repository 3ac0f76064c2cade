/**
 * What the loader accepts from a unit file, at most. Unit files come from directories anyone with
 * root (or a package) can write to, and a hostile or broken file must end as a problem with a
 * position, never as a stack overflow, an out-of-memory or a load that does not finish. Each limit
 * is far above what a real unit file needs and low enough that every step after reading (the YAML
 * parsers, merging drop-ins, the zod schemas, locating problems) stays cheap and shallow.
 */

/**
 * Bytes per file. The largest example (an inline cell configuration) is 2.5 KB; 1 MiB is what
 * systemd allows for a unit file line. Larger files are refused after a stat, before reading.
 */
export const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Collections nested in one another (the document's own mapping is level 1). Unit files nest about
 * six deep; each level costs the yaml package, zod and the merge a few stack frames, so 64 keeps
 * them far from the stack limit wherever the loader is called from.
 */
export const MAX_DEPTH = 64;

/** Documents (`---`) per file: one per unit, and no file of 1 MiB holds ten thousand real units. */
export const MAX_DOCUMENTS = 10_000;

/**
 * Values that aliases (`*name`) repeat, in all, per file: a handful of shared blocks is what
 * anchors are for; "billion laughs" (aliases of aliases, each doubling the data) is refused here,
 * before anything expands it.
 */
export const MAX_ALIASED_VALUES = 10_000;

/** "1 MiB" */
export function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}
