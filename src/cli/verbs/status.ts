import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl status`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: status is not implemented yet\n');
  return 'failed';
}
