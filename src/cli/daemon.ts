/** How daemon-facing verbs reach crtosd: one client per invocation, closed whatever happens. */
import type { CliContext } from './context.js';
import type { ParsedArgs } from './options.js';
import { CrtosClient } from '../dbus/client.js';

export async function withClient<T>(ctx: CliContext, args: ParsedArgs, fn: (client: CrtosClient) => Promise<T>): Promise<T> {
  const client = await CrtosClient.connect(args.values.get('bus'), ctx.env);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

export function writeJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** The kind part of a unit id (`nuttx.cell` → `cell`). */
export const kindOf = (id: string): string => id.slice(id.lastIndexOf('.') + 1);
