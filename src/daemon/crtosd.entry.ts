/** crtosd: the deployment daemon. Options in args.ts, wiring in daemon.ts. */
// First, before anything else is evaluated: keeps the young generation small (heap.ts).
import './cap-heap.js';
import { parseArgs, USAGE } from './args.js';
import { createLogger } from './logger.js';
import { runDaemon } from './daemon.js';
import { renderProblem } from '../errors/render.js';

async function main(): Promise<number> {
  const { options, problems } = parseArgs(process.argv.slice(2));
  if (!options) {
    for (const p of problems) process.stderr.write(`crtosd: ${renderProblem(p)}\n`);
    process.stderr.write('Try crtosd --help\n');
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = createLogger(options.logLevel, { format: options.logFormat, out: options.once ? process.stderr : process.stdout });
  const daemon = await runDaemon(options, log.logger, process.env, log);
  return daemon.done;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Loaders are detached; nothing of ours should keep the process alive after shutdown.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (e: unknown) => {
    process.stderr.write(`crtosd: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
