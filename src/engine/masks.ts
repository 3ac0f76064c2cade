/**
 * Masks, systemd's meaning: a masked unit is not started, neither by a pass nor by `start`; one
 * that runs keeps running until it is stopped. A mask is a symlink to /dev/null named after the
 * unit, as systemd's are: persistent ones in /etc/crtos/mask (kept across daemon restarts and
 * reboots), runtime ones in the state directory's mask/ (/run/crtos/mask, gone at reboot). The
 * daemon reads both when it starts and on every reload, so a mask made by hand
 * (`ln -s /dev/null /etc/crtos/mask/nuttx.cell`) counts from the next reload.
 *
 * Like the state file, these are crtosd's own files (not machine paths under --root), written
 * directly; the engine goes through the MaskStore interface, so its tests use the memory one.
 */
import { mkdirSync, readdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { problem, ProblemError } from '../errors/problem.js';

export type MaskScope = 'runtime' | 'persistent';

/** One file a mask or an unmask made or removed, as systemd's MaskUnitFiles reports it. */
export interface MaskChange {
  type: 'symlink' | 'unlink';
  file: string;
  /** The symlink's target (/dev/null); '' for an unlink. */
  destination: string;
}

export interface MaskStore {
  /** The masked unit ids and their scope (runtime when both have one: it is the one that goes first). */
  load(): Map<string, MaskScope>;
  /** Masks `id` in `scope`; no change when it already is. Throws ENGINE_MASK_STORE when the file cannot be written. */
  mask(id: string, scope: MaskScope): MaskChange[];
  /** Removes `id`'s mask of `scope`; no change when there is none. */
  unmask(id: string, scope: MaskScope): MaskChange[];
  /** Where a mask of `scope` for `id` lives, for messages. */
  path(id: string, scope: MaskScope): string;
}

export const DEFAULT_PERSISTENT_MASK_DIR = '/etc/crtos/mask';
const MASK_TARGET = '/dev/null';

/**
 * The mask files of one daemon. `persistent` defaults to /etc/crtos/mask; `runtime` is the state
 * directory's mask/.
 */
export function fileMaskStore(dirs: Record<MaskScope, string>): MaskStore {
  const path = (id: string, scope: MaskScope): string => join(dirs[scope], id);
  const read = (scope: MaskScope): string[] => {
    try {
      // Only symlinks to /dev/null are masks, as systemd has it; anything else there is ignored.
      return readdirSync(dirs[scope]).filter((name) => {
        try {
          return readlinkSync(join(dirs[scope], name)) === MASK_TARGET;
        } catch {
          return false;
        }
      });
    } catch {
      return [];
    }
  };
  const failed = (id: string, scope: MaskScope, what: string, e: unknown): ProblemError =>
    new ProblemError(
      problem('ENGINE_MASK_STORE', `cannot ${what} ${path(id, scope)}: ${(e as Error).message}`, {
        unit: id,
        file: path(id, scope),
        hint: `crtosd needs to write ${dirs[scope]} (its ${scope === 'runtime' ? '--state-dir' : '--mask-dir'})`,
      }),
    );
  return {
    load() {
      const out = new Map<string, MaskScope>();
      for (const id of read('persistent')) out.set(id, 'persistent');
      for (const id of read('runtime')) out.set(id, 'runtime');
      return out;
    },
    mask(id, scope) {
      if (read(scope).includes(id)) return [];
      try {
        mkdirSync(dirs[scope], { recursive: true });
        symlinkSync(MASK_TARGET, path(id, scope));
      } catch (e) {
        throw failed(id, scope, 'create', e);
      }
      return [{ type: 'symlink', file: path(id, scope), destination: MASK_TARGET }];
    },
    unmask(id, scope) {
      if (!read(scope).includes(id)) return [];
      try {
        unlinkSync(path(id, scope));
      } catch (e) {
        throw failed(id, scope, 'remove', e);
      }
      return [{ type: 'unlink', file: path(id, scope), destination: '' }];
    },
    path,
  };
}

/** Masks kept in memory (engine tests, `--once`). */
export function memoryMaskStore(): MaskStore {
  const masks: Record<MaskScope, Set<string>> = { runtime: new Set(), persistent: new Set() };
  const path = (id: string, scope: MaskScope): string => `(${scope})/${id}`;
  return {
    load() {
      return new Map<string, MaskScope>([...[...masks.persistent].map((id) => [id, 'persistent'] as const), ...[...masks.runtime].map((id) => [id, 'runtime'] as const)]);
    },
    mask(id, scope) {
      if (masks[scope].has(id)) return [];
      masks[scope].add(id);
      return [{ type: 'symlink', file: path(id, scope), destination: MASK_TARGET }];
    },
    unmask(id, scope) {
      return masks[scope].delete(id) ? [{ type: 'unlink', file: path(id, scope), destination: '' }] : [];
    },
    path,
  };
}
