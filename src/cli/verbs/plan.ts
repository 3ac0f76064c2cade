import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl plan`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: plan is not implemented yet\n');
  return 'failed';
}
