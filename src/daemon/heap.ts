/**
 * crtosd's young generation stays small however crtosd is started.
 *
 * V8 doubles a process's young generation (two semi-spaces, up to 16 MB each on 64-bit) each time
 * as many bytes have survived its scavenges as it holds, and keeps the memory. Every reload
 * allocates about 1.3 MB, part of it long enough to survive a scavenge, so after 50 to 75 reloads
 * the young generation reached its maximum and resident memory had grown by about 30 MB (73 to
 * 106 MB in issue 10), then stayed there. Nothing of crtosd's own grew: heap snapshots taken after
 * a full collection at reload 50 and reload 200 differ only in compiled code (0.3 to 0.5 MB), and the
 * open file descriptors stay the same.
 *
 * The packaged service sets NODE_OPTIONS=--max-semi-space-size=2 (see its comment for the
 * measurements), but that flag only works when V8 starts, so crtosd started by hand, by the demo or
 * by a test grew as above. There, crtosd stops the growth itself: V8 reads the growth factor each
 * time it would grow the young generation, so a factor of 1 keeps it at its initial 1 MB
 * semi-spaces.
 */
import { setFlagsFromString } from 'node:v8';

const SIZED = /--(max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)\b/;

/** True when the node command line or NODE_OPTIONS already sizes the young generation. */
export function youngGenerationSized(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((a) => SIZED.test(a)) || SIZED.test(nodeOptions ?? '');
}

/** Keeps the young generation at its current size unless the command line sized it; says whether it did. */
export function capYoungGeneration(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  if (youngGenerationSized(execArgv, env.NODE_OPTIONS)) return false;
  setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}
