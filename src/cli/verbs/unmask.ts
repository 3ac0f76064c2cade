/** `crtosctl unmask [--runtime] UNIT…`: lifts masks (see ./mask.ts). */
import type { CliContext, ExitKind } from '../context.js';
import { runMask } from './mask.js';

export function run(ctx: CliContext): Promise<ExitKind> {
  return runMask(ctx, true);
}
