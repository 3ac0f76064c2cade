import type { CliContext, ExitKind } from '../context.js';

/** `crtosctl restart`: not built yet. */
export async function run(ctx: CliContext): Promise<ExitKind> {
  ctx.stderr.write('crtosctl: restart is not implemented yet\n');
  return 'failed';
}
