/**
 * Ranges of physical addresses as facts give them (`0x40000000-0x7fffffff`, both ends included, as
 * /proc/iomem prints them): parsed, merged where they touch, printed.
 */

/** First and last address of a range, both included. */
export type AddressRange = readonly [first: bigint, last: bigint];

export function parseRange(text: string): AddressRange {
  const [first, last] = text.split('-').map((x) => BigInt(x));
  return [first!, last!];
}

/** `0x%08x-0x%08x`, the width /proc/iomem gives addresses below 4 GiB. */
export function formatRange([first, last]: AddressRange): string {
  const hex = (n: bigint) => `0x${n.toString(16).padStart(8, '0')}`;
  return `${hex(first)}-${hex(last)}`;
}

/**
 * Sorted, with ranges that overlap or follow each other without a gap joined into one: firmware
 * maps often split one bank of RAM into adjacent entries.
 */
export function mergeRanges(ranges: Iterable<AddressRange>): AddressRange[] {
  const out: [bigint, bigint][] = [];
  for (const [first, last] of [...ranges].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const prev = out[out.length - 1];
    if (prev && first <= prev[1] + 1n) prev[1] = last > prev[1] ? last : prev[1];
    else out.push([first, last]);
  }
  return out;
}
