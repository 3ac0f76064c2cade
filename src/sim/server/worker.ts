/**
 * A tool server's worker thread: runs one stand-in invocation at a time, as the tool's own process
 * would. The stand-ins block synchronously (latencies, hangs, lock polling), so each request gets
 * a thread of its own; between requests the thread is reused, its process identity (pid, parent,
 * cwd, environment) set to the client's, so locks name the client as their owner and a killed
 * client's lock is taken over exactly as a killed tool's.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { shareLockBells } from '../store.js';
import { runTool } from '../tools/dispatch.js';
import type { ToolRequest } from './protocol.js';

/** Server → worker. */
export interface WorkerJob {
  request: ToolRequest;
}

/** What every worker gets at its start: the memory its locks' bells ring in (store.ts). */
export interface WorkerSetup {
  lockBells: SharedArrayBuffer;
}

/** Worker → server. */
export type WorkerMessage = { t: 'O' | 'E'; text: string } | { t: 'X'; code: number };

function becomeClient(r: ToolRequest): void {
  // This thread stands for the client's process. Node keeps pid and ppid as native properties
  // that ignore writes (ppid is read afresh each time): replaced, not assigned.
  for (const [key, value] of [['pid', r.pid], ['ppid', r.ppid]] as const) {
    delete (process as unknown as Record<string, unknown>)[key];
    Object.defineProperty(process, key, { value, configurable: true, enumerable: true, writable: true });
  }
  process.cwd = () => r.cwd;
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, r.env);
}

async function run({ request }: WorkerJob): Promise<number> {
  becomeClient(request);
  const [tool, ...args] = request.argv;
  const post = (m: WorkerMessage) => parentPort!.postMessage(m);
  try {
    return await runTool(tool ?? '', args, {
      dir: request.env.CRTOS_SIM_DIR ?? '',
      env: process.env,
      started: request.started,
      out: (text) => post({ t: 'O', text }),
      err: (text) => post({ t: 'E', text }),
    });
  } catch (e) {
    // What Node prints for an uncaught error before exiting 1.
    post({ t: 'E', text: `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n` });
    return 1;
  }
}

export function serveJobs(): void {
  shareLockBells((workerData as WorkerSetup).lockBells);
  parentPort!.on('message', (job: WorkerJob) => {
    void run(job).then((code) => parentPort!.postMessage({ t: 'X', code } satisfies WorkerMessage));
  });
}
