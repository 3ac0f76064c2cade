/**
 * The hung-tool cases of issue 10, shared by the in-process Manager tests and the crtosd restart
 * tests: which operation hangs, which unit it belongs to, how it is reached, and which units do
 * not have to wait for it. Plus synchronous looks at /proc and at the machine's operation log, for
 * assertions made the moment an event arrives.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { SimOperation } from '../../src/sim/index.js';
import { readLogSync } from '../../src/sim/store.js';
import type { Fixture } from './harness.js';

export interface HangCase {
  op: SimOperation;
  /** The unit whose operation hangs: it fails at its own timeout. None: observation's probe. */
  unit?: string;
  /** How the operation is reached: at boot, by a new image (cell reload), by a new configuration (re-create). */
  via: 'boot' | 'new-image' | 'new-config';
  /** Units that do not wait for it (neither require it nor are ordered after it). */
  independent: string[];
}

const BELOW_HYPERVISOR = ['jailhouse.driver', 'nuttx.image'];
// The links come up with the hypervisor's configuration: they do not wait for the cell they connect.
const LINKS = ['shadow.link', 'crtos-net.link'];
const BESIDE_CELL = [...BELOW_HYPERVISOR, 'jailhouse.hypervisor', ...LINKS, 'shadow.driver', 'ivshmem-net.driver', 'crtos-link.network'];
const BESIDE_NETWORK = [...BELOW_HYPERVISOR, 'jailhouse.hypervisor', ...LINKS, 'shadow.driver', 'ivshmem-net.driver'];

export const HANG_CASES: HangCase[] = [
  { op: 'jailhouse enable', unit: 'jailhouse.hypervisor', via: 'boot', independent: BELOW_HYPERVISOR },
  { op: 'jailhouse cell create', unit: 'nuttx.cell', via: 'boot', independent: BESIDE_CELL },
  { op: 'jailhouse cell load', unit: 'nuttx.cell', via: 'boot', independent: BESIDE_CELL },
  { op: 'jailhouse cell start', unit: 'nuttx.cell', via: 'boot', independent: BESIDE_CELL },
  { op: 'jailhouse cell shutdown', unit: 'nuttx.cell', via: 'new-image', independent: BESIDE_CELL },
  { op: 'jailhouse cell destroy', unit: 'nuttx.cell', via: 'new-config', independent: BESIDE_CELL },
  // The cell wants the link, which orders it after the network: it is not independent here.
  { op: 'ip addr add', unit: 'crtos-link.network', via: 'boot', independent: BESIDE_NETWORK },
  { op: 'ip link set', unit: 'crtos-link.network', via: 'boot', independent: BESIDE_NETWORK },
  { op: 'ip addr show', via: 'boot', independent: [...BESIDE_CELL, 'nuttx.cell'] },
];

/** Edits the unit files (and machine files) so that the next reload reaches the case's operation. */
export function reachBy(f: Fixture, via: HangCase['via']): void {
  if (via === 'new-image') {
    // A new image: the cell is reloaded in place (shutdown, load, start).
    const bytes = Buffer.concat([readFileSync(join(f.machine.dir, 'opt/crtos/nuttx.bin')), Buffer.from('v2')]);
    writeFileSync(join(f.machine.dir, 'opt/crtos/nuttx-v2.bin'), bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    f.writeUnit('nuttx.yaml', f.readUnit('nuttx.yaml').replace('/opt/crtos/nuttx.bin', '/opt/crtos/nuttx-v2.bin').replace(/sha256: [0-9a-f]{64}/, `sha256: ${sha}`));
  } else if (via === 'new-config') {
    // Another configuration of the cell's own (its communication region moved, no link touched):
    // the cell is destroyed and created again, the hypervisor stays as it is.
    const before = f.readUnit('nuttx.yaml');
    const after = before.replace('{ virtStart: 0x80000000, size: 4K, flags: [READ, WRITE, COMM_REGION] }', '{ virtStart: 0x80001000, size: 4K, flags: [READ, WRITE, COMM_REGION] }');
    if (after === before) throw new Error("nuttx.yaml has no communication region at 0x80000000 to move");
    f.writeUnit('nuttx.yaml', after);
  }
}

export interface LogEntry {
  op: string;
  args: string[];
  result: string;
  detail?: { pid?: number };
  /** Epoch ms: when the tool's process started, and when it wrote the line. */
  start?: number;
  end: number;
  /** jailhouse commands: how long it queued for the driver lock. */
  lockWaitMs?: number;
}

/** The machine's operation log, read synchronously (in an event handler). */
export function opsLog(f: Fixture): LogEntry[] {
  return readLogSync(f.machine.dir) as LogEntry[];
}

export function hungEntry(f: Fixture, op: string): (LogEntry & { pid: number }) | undefined {
  const e = opsLog(f).find((x) => x.op === op && x.result === 'hang');
  return e?.detail?.pid === undefined ? undefined : { ...e, pid: e.detail.pid };
}

/** Whether a process runs (a zombie does not: it is gone but for its exit status). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Operations that change the machine (not reads), as the tests' "acting" means. */
export function mutating(e: LogEntry): boolean {
  return !['ip addr show', 'ip link show', 'jailhouse cell list', 'jailhouse console', 'cell state', 'cell failed'].includes(e.op) && e.op !== 'loader';
}
