/**
 * The simulated remoteproc machine's processes, one bundle (dist/crtos-sim-remoteproc.mjs):
 *   server DIR [--owner PID:START]   the machine's kernel server (started by createSimMachine)
 *   proxy [--ping] [--timeout MS] [TTY]   the stand-in Linux proxy (CRTOS_SIM_DIR names the machine)
 */
import { runKernelServer } from './kernel-server.js';
import { runProxy } from './proxy.js';

const [command, ...args] = process.argv.slice(2);
let code: number;
if (command === 'server' && args[0] !== undefined) {
  const owner = args.indexOf('--owner');
  code = await runKernelServer(args[0], owner >= 0 ? args[owner + 1] : undefined);
} else if (command === 'proxy') {
  const dir = process.env.CRTOS_SIM_DIR ?? '';
  if (dir === '') {
    process.stderr.write('rpmsg-proxy: CRTOS_SIM_DIR is not set; run it through the wrapper in the machine\n');
    code = 2;
  } else code = await runProxy(args, { dir, env: process.env, err: (t) => void process.stderr.write(t) });
} else {
  process.stderr.write('usage: crtos-sim-remoteproc (server DIR [--owner PID:START] | proxy [--ping] [--timeout MS] [TTY])\n');
  code = 2;
}
process.exit(code);
