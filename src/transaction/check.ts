/**
 * The transaction check: everything that can be known wrong about a unit set without touching the
 * machine, run before a set is applied (crtosd) or reported (`crtosctl validate`). One function
 * for both, so the daemon never applies what validate would reject. The passes run on a set that
 * loaded without errors (schema, graph); each returns problems as data, positioned in the unit files.
 */
import type { Problem } from '../errors/problem.js';
import type { CheckContext, Pass } from './context.js';
import { filesPass } from './passes/files.js';
import { pinsPass } from './passes/pins.js';
import { kindsPass } from './passes/kinds.js';

export type { CheckContext } from './context.js';
export { machineFiles, machineFilesUnder, type MachineFiles, type MachineFile } from './machine-files.js';

/** In the order they are reported: what is missing, what is not what it should be, what does not fit. */
const PASSES: readonly Pass[] = [filesPass, pinsPass, kindsPass];

export async function checkTransaction(ctx: CheckContext): Promise<Problem[]> {
  const found = await Promise.all(PASSES.map((pass) => pass(ctx)));
  return found.flat();
}
