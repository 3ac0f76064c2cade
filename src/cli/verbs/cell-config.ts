import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl cell-config`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: cell-config is not implemented yet\n');
  return 'failed';
}
