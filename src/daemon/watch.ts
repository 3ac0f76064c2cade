/**
 * Watching the unit directories with chokidar: directories, not files (an editor's atomic save
 * replaces the file's inode), editors' temporary files ignored, bursts debounced into one reload.
 */
import { watch, type FSWatcher } from 'chokidar';
import { basename } from 'node:path';

/** Swap, backup and temporary files editors write next to the real one. */
export function isEditorNoise(path: string): boolean {
  const name = basename(path);
  return name.startsWith('.') || name.endsWith('~') || /\.(swp|swx|swo|tmp|bak|orig|rej)$/.test(name) || /^#.*#$/.test(name) || /^4913$/.test(name);
}

export interface UnitWatcher {
  close(): Promise<void>;
  ready: Promise<void>;
}

export function watchUnitDirectories(dirs: readonly string[], debounceMs: number, onChange: (paths: string[]) => void): UnitWatcher {
  const watcher: FSWatcher = watch([...dirs], {
    ignoreInitial: true,
    atomic: true,
    ignored: (path: string) => isEditorNoise(path),
    depth: 2,
  });
  let timer: NodeJS.Timeout | undefined;
  let changed: string[] = [];
  const fire = (path: string) => {
    changed.push(path);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      const paths = changed;
      changed = [];
      onChange(paths);
    }, debounceMs);
  };
  watcher.on('all', (_event, path) => fire(path));
  watcher.on('error', () => undefined);
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
