/** Telling a process apart from a later one with the same pid. */
import { readFileSync } from 'node:fs';

/** The start time of a process (/proc/PID/stat field 22, in clock ticks since boot), or undefined when it is gone. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
