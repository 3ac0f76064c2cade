/**
 * `crtosctl __complete units`: the running daemon's unit ids, one per line, for the completion
 * scripts. Fast and silent: nothing at all (exit 0) when no daemon answers within a moment, so a
 * shell never shows an error or waits while someone presses Tab.
 */
import type { CliContext, ExitKind } from '../context.js';
import { parseArgs } from '../options.js';
import { OPTIONS } from './__complete.options.js';
import { CrtosClient } from '../../dbus/client.js';

const PATIENCE_MS = 1000;

export async function run(ctx: CliContext): Promise<ExitKind> {
  const args = parseArgs(ctx.args, OPTIONS);
  if (args.positional[0] !== 'units') return 'ok';
  let client: CrtosClient | undefined;
  try {
    client = await CrtosClient.connect(args.values.get('bus'), ctx.env);
    const ids = client.listUnits().then((units) => units.map((u) => u.id).sort());
    const late = new Promise<string[]>((done) => setTimeout(() => done([]), PATIENCE_MS).unref());
    const answer = await Promise.race([ids.catch(() => []), late]);
    ctx.stdout.write(answer.map((id) => `${id}\n`).join(''));
  } catch {
    // No bus, no daemon: nothing to offer.
  } finally {
    // Also when the daemon has not answered: the connection must not keep crtosctl waiting.
    client?.close();
  }
  return 'ok';
}
