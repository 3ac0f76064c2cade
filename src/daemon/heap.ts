/**
 * crtosd's young generation stays small however crtosd is started, and crtosd leaves out V8's
 * optimizing compiler (below).
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

/** What crtosd sets when nothing sized the young generation. */
export const FIXED_YOUNG_GENERATION_FLAG = '--semi-space-growth-factor=1';

const SIZED = /--(max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)\b/;

/** True when the node command line or NODE_OPTIONS already sizes the young generation. */
export function youngGenerationSized(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((a) => SIZED.test(a)) || SIZED.test(nodeOptions ?? '');
}

/** Keeps the young generation at its current size unless the command line sized it; says whether it did. */
export function capYoungGeneration(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  if (youngGenerationSized(execArgv, env.NODE_OPTIONS)) return false;
  setFlagsFromString(FIXED_YOUNG_GENERATION_FLAG);
  return true;
}

/**
 * crtosd runs its JavaScript in V8's interpreter, Ignition, alone: neither the optimizing compiler,
 * TurboFan, nor the baseline compiler, Sparkplug. crtosd's JavaScript orchestrates tools and
 * parses their short outputs; its hot spots are JSON and string built-ins, which are the same
 * native code in every tier, so the compilers buy little CPU, and what they cost stays resident
 * for the daemon's lifetime: their code in the node binary paged in, their threads' malloc arenas
 * and the code they made.
 *
 * - TurboFan: the daemon used 1.2 to 1.65 s of CPU for a 32-cell bring-up with it and 1.3 s
 *   without (bench/idle's deployment on a busy machine); the idle daemon held 69.6 MB with it and
 *   64.3 MB without, 20 s after the same bring-up.
 * - Sparkplug: without it the idle daemon held 1.5 to 2 MB less (bench/idle with the daemon under
 *   node --max-opt=0 against 1, two 20 s and one 60 s window each, quiet machine: 1.31 to 1.37 ×
 *   `node -e 0` at the window's end against 1.37 to 1.38), for about 3 % more CPU in the 32-cell
 *   bring-up (830 to 840 ms against 780 to 820 ms) and none measurable when idle.
 *
 * The price is on large unit sets, where the same code runs thousands of times: loading 10,000
 * units (bench/load's unit set) took 650 ms in the interpreter, 430 to 456 ms with Sparkplug and
 * 277 ms with TurboFan (medians of 5, quiet machine). A deployment of a few hundred units loads
 * in a few ms in any tier. An operator of a very large unit set who prefers the throughput starts
 * crtosd as `node --max-opt=4 /usr/lib/crtosd/crtosd.mjs …` (an ExecStart= in a drop-in); crtosd
 * then leaves the tiers alone.
 *
 * NODE_OPTIONS cannot carry V8's --max-opt, so crtosd sets it itself, before the rest of it is
 * evaluated and so before anything could have been compiled; a node command line or
 * NODE_OPTIONS that chooses a tier itself is left alone.
 */
export const TOP_TIER_FLAG = '--max-opt=0';

const TIER_CHOSEN = /--(max[-_]opt|(no[-_])?turbofan|(no[-_])?maglev|(no[-_])?sparkplug|(no[-_])?opt|lite[-_]mode|jitless)\b/;

/** True when the node command line or NODE_OPTIONS already chooses V8's compiler tiers. */
export function compilerTierChosen(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((a) => TIER_CHOSEN.test(a)) || TIER_CHOSEN.test(nodeOptions ?? '');
}

/** Makes the interpreter the only tier unless the command line chose one; says whether it did. */
export function leaveOutOptimizer(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  if (compilerTierChosen(execArgv, env.NODE_OPTIONS)) return false;
  setFlagsFromString(TOP_TIER_FLAG);
  return true;
}
