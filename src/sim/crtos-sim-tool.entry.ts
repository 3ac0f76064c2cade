/**
 * The simulator's stand-in tools in one bundle: the wrapper scripts in DIR/bin run
 * `node dist/crtos-sim-tool.mjs TOOL ARGS…` with CRTOS_SIM_DIR set to the machine directory.
 */
import { writeSync } from 'node:fs';
import { runTool } from './tools/dispatch.js';

const [tool, ...args] = process.argv.slice(2);
const code = await runTool(tool ?? '', args, {
  dir: process.env.CRTOS_SIM_DIR ?? '',
  env: process.env,
  started: performance.timeOrigin,
  out: (text) => writeSync(1, text),
  err: (text) => writeSync(2, text),
});
process.exit(code);
