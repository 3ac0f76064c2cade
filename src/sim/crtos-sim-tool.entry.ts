/**
 * The simulator's stand-in tools in one bundle. Three ways in:
 * - `node dist/crtos-sim-tool.mjs TOOL ARGS…` with CRTOS_SIM_DIR set: one tool in this process
 *   (the wrapper scripts in DIR/bin when no C compiler built the client), or `inmates DIR`, the
 *   machine's inmate host (src/sim/inmates);
 * - `… serve DIR`: the machine's tool server that the C client (dist/crtos-sim-client) talks to;
 * - as a worker thread of that server: runs its requests.
 */
import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { join } from 'node:path';
import { runTool } from './tools/dispatch.js';
import { serveJobs } from './server/worker.js';
import { serveTools, tellStarter } from './server/server.js';

const [tool, ...args] = process.argv.slice(2);
if (!isMainThread) serveJobs();
else if (tool === 'serve' && args[0]) {
  process.chdir(join(args[0], '.sim'));
  await serveTools(args[0], { onListening: tellStarter });
} else {
  const code = await runTool(tool ?? '', args, {
    dir: process.env.CRTOS_SIM_DIR ?? '',
    env: process.env,
    started: performance.timeOrigin,
    out: (text) => writeSync(1, text),
    err: (text) => writeSync(2, text),
  });
  process.exit(code);
}
