import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl start`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: start is not implemented yet\n');
  return 'failed';
}
