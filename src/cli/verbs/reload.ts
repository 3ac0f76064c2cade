import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl reload`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: reload is not implemented yet\n');
  return 'failed';
}
