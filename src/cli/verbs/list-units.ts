import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl list-units`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: list-units is not implemented yet\n');
  return 'failed';
}
