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
 * invocation to the machine's tool server, for machines created with CRTOS_SIM_CLIENT=1;
 * undefined otherwise (the Node.js tools, one process per invocation) or when the build had no C
 * compiler. Opt-in for now: with stand-ins that fast, crtosd's crash test finds a restarted
 * daemon adopting a cell whose start was interrupted without waiting for its readiness
 * (src/sim/README.md, "How a stand-in runs").
 */
export function toolClientPath(bundle = toolBundlePath()): string | undefined {
  if (process.env.CRTOS_SIM_CLIENT !== '1') return undefined;
  const client = join(dirname(bundle), 'crtos-sim-client');
  return existsSync(client) ? client : undefined;
}
