/** `crtosctl stop UNIT…`: queue stop jobs and wait for their results (see ../jobs.ts). */
import type { CliContext, ExitKind } from '../context.js';
import { runJobVerb } from '../jobs.js';

export function run(ctx: CliContext): Promise<ExitKind> {
  return runJobVerb(ctx, 'stop');
}
