/**
 * The metrics file (--metrics-file) node_exporter's textfile collector reads: written at start and
 * after every change the engine announces (a unit's state, a restart, a health event, a reload),
 * through the Host, atomically (a temporary file beside it, fsync, rename: node_exporter reads
 * the old file or the whole new one, never a part; the temporary file's name does not end in
 * `.prom`, so the collector skips it).
 *
 * A burst of changes (a bring-up announces every unit several times) is written once: the first
 * change starts a short window, the changes within it are folded in, and the file shows the
 * engine as it is when the window closes; a change while a write is under way writes once more
 * after it. A write that fails is reported once, not at every change, and crtosd runs on: the
 * metrics are for watching the machine, never a reason to disturb it. The next change tries again.
 */
import { dirname } from 'node:path';
import type { Host } from '../host/host.js';
import { isHostError } from '../host/host-error.js';
import { strerror } from '../host/errno.js';
import type { ManagerEvents } from '../engine/manager-api.js';
import { problem, type Problem } from '../errors/problem.js';

/** The engine events after which the metrics may differ. */
const CHANGES = ['unitChanged', 'unitNew', 'unitRemoved', 'daemonChanged'] as const satisfies ReadonlyArray<keyof ManagerEvents>;

/** Long enough to fold a bring-up's announcements of one pass together, short next to any scrape interval. */
export const DEFAULT_COALESCE_MS = 100;

export interface ChangeSource {
  on(event: (typeof CHANGES)[number], listener: () => void): unknown;
  off(event: (typeof CHANGES)[number], listener: () => void): unknown;
}

export interface MetricsFileOptions {
  host: Pick<Host, 'writeOwnFile'>;
  /** A path of crtosd's own (not resolved under the host root), in node_exporter's textfile directory. */
  path: string;
  /** The text to write: renderMetrics of the engine as it is now. */
  render: () => string;
  changes: ChangeSource;
  /** A write failed: called once until a write succeeds again. */
  failed: (p: Problem) => void;
  /** A write succeeded after failures. */
  recovered: () => void;
  coalesceMs?: number;
}

export interface MetricsFile {
  /** Writes now what the engine shows now (after a write under way); resolves once it is written or has failed. */
  write(): Promise<void>;
  /** Stops following changes; a change not written yet is written first. */
  close(): Promise<void>;
}

/** Follows the engine's changes and writes the file once now. */
export function startMetricsFile(o: MetricsFileOptions): MetricsFile {
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let dirty = false;
  let failing = false;
  let closed = false;

  const writeOnce = async (): Promise<void> => {
    try {
      await o.host.writeOwnFile(o.path, o.render());
      if (failing) o.recovered();
      failing = false;
    } catch (e) {
      if (!failing) o.failed(writeProblem(o.path, e));
      failing = true;
    }
  };

  const write = (): Promise<void> => {
    dirty = true;
    writing ??= (async () => {
      try {
        while (dirty) {
          dirty = false;
          await writeOnce();
        }
      } finally {
        writing = undefined;
      }
    })();
    return writing;
  };

  const changed = (): void => {
    if (closed || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void write();
    }, o.coalesceMs ?? DEFAULT_COALESCE_MS);
  };

  for (const e of CHANGES) o.changes.on(e, changed);
  void write();

  return {
    write,
    async close() {
      if (closed) return;
      closed = true;
      for (const e of CHANGES) o.changes.off(e, changed);
      const pending = timer !== undefined;
      clearTimeout(timer);
      timer = undefined;
      await (pending ? write() : writing);
    },
  };
}

function writeProblem(path: string, e: unknown): Problem {
  const reason = isHostError(e) && e.errno ? strerror(e.errno) : e instanceof Error ? e.message : String(e);
  return problem('ENGINE_METRICS_FILE', `cannot write the metrics file ${path}: ${reason}; crtosd runs on without it`, {
    file: path,
    hint: `make ${dirname(path)} a directory crtosd can write (node_exporter's --collector.textfile.directory), or give --metrics-file another path; the file is written again at the next change`,
  });
}
