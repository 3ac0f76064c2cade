/**
 * Jailhouse's state as its driver shows it in sysfs (/sys/devices/jailhouse: `enabled`, and
 * cells/<id>/ with name, state, cpus_assigned_list and cpus_failed_list), read through the Host's
 * raw reads: one read for `enabled`, one listing, one batch of every cell's files, so a look at
 * 32 cells stays a few microseconds of file reads (see Host.readAttributes).
 */
import type { AttributeRead, Host } from '../../host/host.js';
import { HostError } from '../../host/host-error.js';
import { parseCpuList } from '../../host/parse.js';

export const SYSFS = '/sys/devices/jailhouse';

/** One Jailhouse cell as sysfs shows it under /sys/devices/jailhouse/cells/<id>/. */
export interface CellInfo {
  id: number;
  name: string;
  /** Exactly the sysfs string: running, running/locked, shut down, failed, Comm ABI mismatch, invalid. */
  state: string;
  cpusAssigned: number[];
  cpusFailed: number[];
}

export interface JailhouseStatus {
  /** /sys/devices/jailhouse exists (the module is loaded). */
  loaded: boolean;
  /** `enabled` reads 1. */
  enabled: boolean;
  /** Every cell, root cell (id 0) included, sorted by id. */
  cells: CellInfo[];
}

/** The files of a cell's directory that make a CellInfo, in the order parseCell takes them. */
export const CELL_FILES = ['name', 'state', 'cpus_assigned_list', 'cpus_failed_list'] as const;

/** `running\n` → `running`: a sysfs attribute without its one trailing newline. */
export function attributeText(text: string): string {
  return text.replace(/\n$/, '');
}

/** A cell from the text of its CELL_FILES. Throws on a malformed CPU list. */
export function parseCell(id: number, [name, state, assigned, failed]: readonly string[]): CellInfo {
  return {
    id,
    name: attributeText(name ?? ''),
    state: attributeText(state ?? ''),
    cpusAssigned: parseCpuList(assigned ?? ''),
    cpusFailed: parseCpuList(failed ?? ''),
  };
}

/** The cell ids among the entries of cells/, in order. */
export function cellIds(entries: readonly string[]): number[] {
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .sort((a, b) => a - b);
}

function readFailed(path: string, why: string): HostError {
  return new HostError({ code: 'HOST_READ_FAILED', op: 'jailhouse', message: `jailhouse: cannot read ${path}: ${why}` });
}

/**
 * The driver's state: not loaded when the sysfs directory is missing; rejects with
 * HOST_READ_FAILED when `enabled` or a cell's files cannot be read. A cell whose directory
 * vanished while it was read (destroyed concurrently) is left out.
 */
export async function readJailhouse(host: Host): Promise<JailhouseStatus> {
  const [enabled] = (await host.readAttributes([`${SYSFS}/enabled`])) as [AttributeRead];
  if (!('text' in enabled)) {
    // Checked only now, so the usual look (the module loaded) reads no more than it needs.
    if (enabled.errno === 'ENOENT' && !(await host.exists(SYSFS))) return { loaded: false, enabled: false, cells: [] };
    throw readFailed(`${SYSFS}/enabled`, enabled.error);
  }
  const ids = cellIds(await host.readDir(`${SYSFS}/cells`).catch(() => []));
  const reads = await host.readAttributes(ids.flatMap((id) => CELL_FILES.map((f) => `${SYSFS}/cells/${id}/${f}`)));
  const cells: CellInfo[] = [];
  ids.forEach((id, i) => {
    const files = reads.slice(i * CELL_FILES.length, (i + 1) * CELL_FILES.length);
    // The path as it is opened (under the root), as the message has always named it.
    const dir = () => host.resolve(`${SYSFS}/cells/${id}`);
    const failed = files.find((r) => !('text' in r)) as Extract<AttributeRead, { error: string }> | undefined;
    if (failed?.errno === 'ENOENT') return;
    if (failed) throw readFailed(dir(), failed.error);
    try {
      cells.push(parseCell(id, files.map((r) => (r as { text: string }).text)));
    } catch (e) {
      throw readFailed(dir(), (e as Error).message);
    }
  });
  return { loaded: true, enabled: enabled.text.trim() === '1', cells };
}
