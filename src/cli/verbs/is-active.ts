import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl is-active`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: is-active is not implemented yet\n');
  return 'failed';
}
