/** Tool name → stand-in. Also used in-process by tests and by createSimMachine's helpers. */
import { runJailhouse } from './jailhouse.js';
import { runInsmod, runModprobe, runRmmod } from './kmod.js';
import { runIp } from './ip.js';
import { runChrt } from './chrt.js';
import { runLoader } from './loader.js';
import { runInmateHost } from '../inmates/host.js';
import type { ToolContext } from './context.js';
import { epochNow, waitWhileFrozen } from '../store.js';

export const STAND_IN_TOOLS = ['jailhouse', 'modprobe', 'insmod', 'rmmod', 'ip', 'chrt'] as const;

/**
 * `started`: epoch ms the tool's process started (its performance.timeOrigin); in-process runs
 * leave it out and count from the call.
 */
export async function runTool(tool: string, args: string[], io: Omit<ToolContext, 'args' | 'clock'> & { started?: number }): Promise<number> {
  const start = io.started ?? epochNow();
  if (tool === 'inmates') {
    const [dir] = args;
    if (!dir) return 2;
    return runInmateHost(dir);
  }
  if (io.dir === '') {
    io.err(`${tool}: CRTOS_SIM_DIR is not set; run the simulator's tools through the wrappers in DIR/bin\n`);
    return 2;
  }
  // A machine whose root side froze runs nothing any more (src/sim/README.md, "Where the real hypervisor takes time").
  await waitWhileFrozen(io.dir);
  const ctx: ToolContext = { dir: io.dir, env: io.env, out: io.out, err: io.err, args, clock: { start, workStart: epochNow() } };
  switch (tool) {
    case 'jailhouse':
      return runJailhouse(ctx);
    case 'modprobe':
      return runModprobe(ctx);
    case 'insmod':
      return runInsmod(ctx);
    case 'rmmod':
      return runRmmod(ctx);
    case 'ip':
      return runIp(ctx);
    case 'chrt':
      return runChrt(ctx);
    case 'loader':
      return runLoader(ctx);
    default:
      io.err(`crtos-sim-tool: unknown tool ${JSON.stringify(tool)}\n`);
      return 2;
  }
}
