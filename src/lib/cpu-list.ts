/**
 * CPU lists in the kernel's `%*pbl` form ("1-3,5"), used by unit files, cell descriptions, sysfs
 * and crtosctl alike: one parser and one formatter for all of them.
 */

/** Highest CPU number accepted: Jailhouse bitmaps are sized in bytes by a 16-bit field. */
const MAX_CPU = 0xffff;

/** "1-3,5" → [1, 2, 3, 5]; "" → []. undefined for malformed text or a reversed range. */
export function parseCpuList(text: string): number[] | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const cpus = new Set<number>();
  for (const part of trimmed.split(',')) {
    const m = /^(\d+)\s*(?:-\s*(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first || last > MAX_CPU) return undefined;
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** [1, 2, 3, 5] → "1-3,5", as sysfs `cpus_assigned_list` prints it (no newline). */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
