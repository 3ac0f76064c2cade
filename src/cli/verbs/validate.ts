import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl validate`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: validate is not implemented yet\n');
  return 'failed';
}
