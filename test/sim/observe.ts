/** Watching a simulated machine's sysfs while a command runs, as crtosd (or `watch cat …`) would. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimMachine } from '../../src/sim/index.js';

/** A file's content without its newline, or `-` when it does not exist (or vanished mid-read). */
export function read(m: SimMachine, path: string): string {
  try {
    return readFileSync(join(m.dir, path), 'utf8').replace(/\n$/, '');
  } catch {
    return '-';
  }
}

/**
 * Polls `look` every couple of milliseconds until `during` settles; returns the distinct
 * successive observations and what `during` gave.
 */
export async function observeWhile<T>(look: () => string, during: Promise<T>): Promise<{ seen: string[]; result: T }> {
  const seen: string[] = [];
  let done = false;
  const settled = during.finally(() => {
    done = true;
  });
  const note = () => {
    const o = look();
    if (seen[seen.length - 1] !== o) seen.push(o);
  };
  while (!done) {
    note();
    await new Promise((r) => setTimeout(r, 2));
  }
  note();
  return { seen, result: await settled };
}
