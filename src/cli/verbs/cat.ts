import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl cat`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: cat is not implemented yet\n');
  return 'failed';
}
