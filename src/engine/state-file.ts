/**
 * The state file (STATE_DIR/state.json): per unit what was applied, so that a restarted daemon
 * adopts what runs instead of starting it again. Written atomically (temp file + rename,
 * synchronously) after every applied step: a SIGKILL leaves either the old or the new file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { problem, type Problem } from '../errors/problem.js';
import type { AppliedRecord } from './types.js';

interface StateFileV1 {
  version: 1;
  units: Record<string, AppliedRecord>;
}

export interface StateStore {
  load(): { records: Map<string, AppliedRecord>; problem?: Problem };
  save(records: ReadonlyMap<string, AppliedRecord>): void;
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
      const body: StateFileV1 = { version: 1, units: Object.fromEntries([...records].sort(([a], [b]) => a.localeCompare(b))) };
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(body, null, 1));
      renameSync(tmp, path);
    },
  };
}

/** For tests and --once without a state dir. */
export function memoryStateStore(initial: Iterable<[string, AppliedRecord]> = []): StateStore & { records: Map<string, AppliedRecord> } {
  const store = {
    records: new Map(initial),
    load: () => ({ records: new Map(store.records) }),
    save: (records: ReadonlyMap<string, AppliedRecord>) => {
      store.records = new Map(records);
    },
  };
  return store;
}
