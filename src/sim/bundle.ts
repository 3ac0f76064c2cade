/**
 * Where the bundled stand-in tools live (dist/crtos-sim-tool.mjs). Found relative to this module,
 * whether it runs from src/ (tests) or from a bundle in dist/; CRTOS_SIM_TOOL overrides.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUNDLE = 'crtos-sim-tool.mjs';

export function toolBundlePath(): string {
  const override = process.env.CRTOS_SIM_TOOL;
  if (override) return override;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [join(dir, BUNDLE), join(dir, 'dist', BUNDLE)]) if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`cannot find ${BUNDLE}; run \`npm run build\` first (or set CRTOS_SIM_TOOL)`);
}

/**
 * The compiled stand-in client (dist/crtos-sim-client, next to the bundle) that forwards each
 * invocation to the machine's tool server; undefined when the build had no C compiler, or when
 * CRTOS_SIM_CLIENT=node asks for the Node.js tools (one process per invocation).
 */
export function toolClientPath(bundle = toolBundlePath()): string | undefined {
  if (process.env.CRTOS_SIM_CLIENT === 'node') return undefined;
  const client = join(dirname(bundle), 'crtos-sim-client');
  return existsSync(client) ? client : undefined;
}
