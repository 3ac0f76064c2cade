/**
 * `crtosctl completion bash|zsh|fish`: prints the shell's completion script, made from the VERBS
 * table (src/cli/completion/). The Debian package installs what this prints at build time.
 */
import { UsageError, type CliContext, type ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './completion.options.js';
import { VERBS } from '../crtosctl.entry.js';
import { completionModel } from '../completion/model.js';
import { bashScript } from '../completion/bash.js';
import { zshScript } from '../completion/zsh.js';
import { fishScript } from '../completion/fish.js';

const SCRIPTS = { bash: bashScript, zsh: zshScript, fish: fishScript };

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  const shell = args.positional[0];
  if (args.positional.length !== 1 || !(shell === 'bash' || shell === 'zsh' || shell === 'fish')) throw new UsageError('which shell? usage: crtosctl completion bash|zsh|fish');
  const { constants } = await import('node:os');
  ctx.stdout.write(SCRIPTS[shell](completionModel(VERBS, Object.keys(constants.signals))));
  return 'ok';
}
