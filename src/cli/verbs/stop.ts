import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl stop`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: stop is not implemented yet\n');
  return 'failed';
}
