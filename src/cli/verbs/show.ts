import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl show`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: show is not implemented yet\n');
  return 'failed';
}
