/**
 * The state file (STATE_DIR/state.json): per unit what was applied, so that a restarted daemon
 * adopts what runs instead of starting it again. Written atomically (temp file + rename,
 * synchronously) after every applied step: a SIGKILL leaves either the old or the new file.
 *
 * Beside it, STATE_DIR/tools/PID-STARTTIME.json: one file per tool process crtosd runs, written
 * when it started and removed when it ended, so a restarted daemon finds the tools its
 * predecessor left running (a hung `jailhouse cell create`) and settles them before it acts.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { problem, type Problem } from '../errors/problem.js';
import type { ToolRun } from '../host/host.js';
import type { AppliedRecord } from './types.js';
import type { ActiveState, LogLine, TimelineOperation, UnitResult, UnitTimestamps } from './manager-api.js';
import type { HealthRecord } from './health/record.js';
import { codeUnitOrder } from '../lib/code-unit-order.js';

interface StateFileV1 {
  version: 1;
  units: Record<string, AppliedRecord>;
}

export interface StateStore {
  load(): { records: Map<string, AppliedRecord>; problem?: Problem };
  save(records: ReadonlyMap<string, AppliedRecord>): void;
  /** Where running tools are recorded; none: they are bounded all the same, but not recorded. */
  toolRuns?: ToolRunStore;
  /** Where each unit's history (its recent log, restarts, last result) is kept across restarts. */
  history?: HistoryStore;
}

/** What a unit showed before this daemon started: its log lines, restart count, last result. */
export interface UnitHistory {
  log: LogLine[];
  restarts: number;
  result: UnitResult;
  lastError?: Problem;
  exitCode: number;
  exitSignal: string;
  /** What its health monitor counted, and when its escalating levels acted. */
  health?: HealthRecord;
  /** Its transition timestamps and the state they led to (absent in files of older daemons). */
  timestamps?: UnitTimestamps;
  activeState?: ActiveState;
  /** The operations of its last bring-up. */
  operations?: TimelineOperation[];
}

export interface HistoryStore {
  load(): Map<string, UnitHistory>;
  save(histories: ReadonlyMap<string, UnitHistory>): void;
}

/** A tool process crtosd started, as recorded while it runs. */
export interface ToolRunRecord extends ToolRun {
  /** The unit whose operation runs it; none for observation (`ip addr show`). */
  unit?: string;
  /** The daemon instance that started it (random per instance): a restarted daemon settles the others'. */
  owner: string;
  /** When it started, and when its operation's deadline passes: ms since the epoch. */
  started: number;
  deadline: number;
}

export interface ToolRunStore {
  add(run: ToolRunRecord): void;
  remove(run: ToolRunKey): void;
  list(): ToolRunRecord[];
}

/**
 * A record is known by its process (PID and start time), or, written just before the spawn and
 * before the process is known (pid 0), by its token.
 */
export type ToolRunKey = Pick<ToolRunRecord, 'pid' | 'startTime' | 'token'>;

function toolRunName(run: ToolRunKey): string {
  return run.pid === 0 && run.token !== undefined ? `pending-${run.token}` : `${run.pid}-${run.startTime}`;
}

export function fileStateStore(stateDir: string): StateStore {
  const path = join(stateDir, 'state.json');
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: new Map() };
        return { records: new Map(), problem: problem('ENGINE_STATE_FILE', `cannot read ${path}: ${(e as Error).message}`) };
      }
      try {
        const parsed = JSON.parse(text) as StateFileV1;
        if (parsed.version !== 1 || typeof parsed.units !== 'object') throw new Error('unknown format');
        return { records: new Map(Object.entries(parsed.units)) };
      } catch (e) {
        return {
          records: new Map(),
          problem: problem('ENGINE_STATE_FILE', `ignoring ${path}: ${(e as Error).message}`, { file: path, hint: 'running units are adopted only when their description can be compared; remove the file to silence this' }),
        };
      }
    },
    save(records) {
      mkdirSync(stateDir, { recursive: true });
      const body: StateFileV1 = { version: 1, units: Object.fromEntries([...records].sort(([a], [b]) => codeUnitOrder(a, b))) };
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(body, null, 1));
      renameSync(tmp, path);
    },
    toolRuns: fileToolRunStore(join(stateDir, 'tools')),
    history: fileHistoryStore(stateDir),
  };
}

/**
 * history.json beside state.json: the units' histories, written whole and atomically. Unreadable
 * or of another format, it is forgotten (history is for people; nothing depends on it).
 */
function fileHistoryStore(stateDir: string): HistoryStore {
  const path = join(stateDir, 'history.json');
  return {
    load() {
      try {
        const parsed = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown; units?: unknown };
        if (parsed.version !== 1 || typeof parsed.units !== 'object' || parsed.units === null) return new Map();
        return new Map(Object.entries(parsed.units as Record<string, UnitHistory>).filter(([, h]) => Array.isArray(h.log)));
      } catch {
        return new Map();
      }
    },
    save(histories) {
      mkdirSync(stateDir, { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: 1, units: Object.fromEntries(histories) }));
      renameSync(tmp, path);
    },
  };
}

/**
 * One small file per running tool, written atomically (a dot-named temporary file renamed), so
 * concurrent runs never rewrite each other's record and a SIGKILL leaves whole files only.
 * Synchronous: the record exists before the tool can have done anything worth knowing about.
 */
function fileToolRunStore(dir: string): ToolRunStore {
  const file = (run: ToolRunKey) => join(dir, `${toolRunName(run)}.json`);
  let made = false;
  return {
    add(run) {
      if (!made) mkdirSync(dir, { recursive: true });
      made = true;
      const tmp = join(dir, `.${toolRunName(run)}.${process.pid}.tmp`);
      writeFileSync(tmp, JSON.stringify(run));
      renameSync(tmp, file(run));
    },
    remove(run) {
      try {
        unlinkSync(file(run));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    },
    list() {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
      const out: ToolRunRecord[] = [];
      for (const name of names.filter((n) => /^(\d+-\d+|pending-[0-9a-f]+)\.json$/.test(n)).sort()) {
        try {
          const run = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ToolRunRecord;
          if (Number.isInteger(run.pid) && Number.isInteger(run.startTime) && Array.isArray(run.argv)) out.push(run);
        } catch {
          // Removed meanwhile (the tool ended), or not ours to read: nothing to settle.
        }
      }
      return out;
    },
  };
}

/** For tests and --once without a state dir. */
export function memoryStateStore(initial: Iterable<[string, AppliedRecord]> = []): StateStore & { records: Map<string, AppliedRecord>; toolRuns: ToolRunStore; histories: Map<string, UnitHistory> } {
  const runs = new Map<string, ToolRunRecord>();
  const key = toolRunName;
  const store = {
    records: new Map(initial),
    load: () => ({ records: new Map(store.records) }),
    save: (records: ReadonlyMap<string, AppliedRecord>) => {
      store.records = new Map(records);
    },
    toolRuns: {
      add: (run: ToolRunRecord) => void runs.set(key(run), run),
      remove: (run: ToolRunKey) => void runs.delete(key(run)),
      list: () => [...runs.values()],
    },
    histories: new Map<string, UnitHistory>(),
    history: {
      load: () => new Map(store.histories),
      save: (h: ReadonlyMap<string, UnitHistory>) => void (store.histories = new Map(h)),
    },
  };
  return store;
}
