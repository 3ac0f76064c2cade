/**
 * crtos-sim: make and drive simulated machines from a shell.
 *   crtos-sim create DIR [--machine FILE.json]
 *   crtos-sim env DIR                     (eval "$(crtos-sim env DIR)" puts the stand-ins first)
 *   crtos-sim log DIR [--json]
 *   crtos-sim fault DIR OP (--errno E | --hang) [--times N] [--target T]
 *   crtos-sim fault DIR --latency OP=MS
 *   crtos-sim fault DIR --fail-cell NAME (--after MS | --now)
 *   crtos-sim fault DIR --clear
 */
import { readFileSync } from 'node:fs';
import { runSimCli } from './cli.js';

const code = await runSimCli(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  readFile: (p) => readFileSync(p, 'utf8'),
});
process.exitCode = code;
