/**
 * Fault and timing injection, read from DIR/faults.json on every operation so a running test can
 * change it: an operation fails once, N times or always with an errno, or hangs; an operation
 * takes a set latency; a running cell goes to `failed` at a set time.
 */
import { readFileSync } from 'node:fs';
import { isErrnoName, type ErrnoName } from '../host/errno.js';
import { paths, withLock, writeAtomic } from './store.js';

/** Operation names, as the log records them. */
export const SIM_OPERATIONS = [
  'jailhouse enable',
  'jailhouse disable',
  'jailhouse cell create',
  'jailhouse cell load',
  'jailhouse cell start',
  'jailhouse cell shutdown',
  'jailhouse cell destroy',
  'jailhouse cell list',
  'jailhouse console',
  'modprobe',
  'insmod',
  'rmmod',
  'ip addr add',
  'ip addr del',
  'ip addr show',
  'ip link set',
  'ip link show',
  'chrt',
  'loader',
] as const;
export type SimOperation = (typeof SIM_OPERATIONS)[number];

export interface SimFault {
  op: SimOperation;
  /** Only when the operation targets this cell, module or interface (as named on the command line). */
  target?: string;
  /** Fail with this errno (the tool prints its own message for it). */
  errno?: ErrnoName;
  /** Never finish (until killed), like an ioctl waiting for a cell that does not answer. */
  hang?: boolean;
  /** How many more times this fault fires; absent = always. */
  times?: number;
}

export interface SimCellFailure {
  cell: string;
  /** Go to `failed` this long after the cell is started (each start) … */
  afterStartMs?: number;
  /** … or at this wall-clock time (ms since the epoch). */
  at?: number;
}

export interface SimFaultFile {
  faults: SimFault[];
  /** Operation → milliseconds it takes (for jailhouse operations: with the driver mutex held). */
  latencies: Partial<Record<SimOperation, number>>;
  cellFailures: SimCellFailure[];
}

export function emptyFaults(): SimFaultFile {
  return { faults: [], latencies: {}, cellFailures: [] };
}

export function readFaults(dir: string): SimFaultFile {
  try {
    const parsed = JSON.parse(readFileSync(paths.faults(dir), 'utf8')) as Partial<SimFaultFile>;
    return { faults: parsed.faults ?? [], latencies: parsed.latencies ?? {}, cellFailures: parsed.cellFailures ?? [] };
  } catch {
    return emptyFaults();
  }
}

export function writeFaults(dir: string, faults: SimFaultFile): void {
  const problems = validateFaults(faults);
  if (problems.length > 0) throw new Error(`invalid simulator faults: ${problems.join('; ')}`);
  withLock(dir, 'faults', () => writeAtomic(paths.faults(dir), `${JSON.stringify(faults, null, 2)}\n`));
}

export function validateFaults(f: SimFaultFile): string[] {
  const problems: string[] = [];
  const ops = new Set<string>(SIM_OPERATIONS);
  for (const fault of f.faults) {
    if (!ops.has(fault.op)) problems.push(`unknown operation ${JSON.stringify(fault.op)} (one of: ${SIM_OPERATIONS.join(', ')})`);
    if (fault.errno !== undefined && !isErrnoName(fault.errno)) problems.push(`unknown errno ${JSON.stringify(fault.errno)}`);
    if (fault.errno === undefined && !fault.hang) problems.push(`fault on ${fault.op} needs an errno or hang: true`);
    if (fault.times !== undefined && (!Number.isInteger(fault.times) || fault.times < 1)) problems.push(`times must be a positive integer`);
  }
  for (const [op, ms] of Object.entries(f.latencies)) {
    if (!ops.has(op)) problems.push(`unknown operation ${JSON.stringify(op)} in latencies`);
    if (typeof ms !== 'number' || ms < 0) problems.push(`latency of ${op} must be a number of milliseconds >= 0`);
  }
  for (const c of f.cellFailures) {
    if (typeof c.cell !== 'string' || (c.afterStartMs === undefined) === (c.at === undefined)) problems.push('a cell failure names a cell and exactly one of afterStartMs or at');
  }
  return problems;
}

/**
 * The fault that fires for this operation now, consuming one of its `times`. Under the faults
 * lock, so two concurrent tools cannot both take the last one.
 */
export function takeFault(dir: string, op: SimOperation, targets: string[]): SimFault | undefined {
  return withLock(dir, 'faults', () => {
    const f = readFaults(dir);
    const index = f.faults.findIndex((x) => x.op === op && (x.target === undefined || targets.includes(x.target)));
    if (index < 0) return undefined;
    const fault = f.faults[index] as SimFault;
    if (fault.times !== undefined) {
      if (fault.times <= 1) f.faults.splice(index, 1);
      else f.faults[index] = { ...fault, times: fault.times - 1 };
      writeAtomic(paths.faults(dir), `${JSON.stringify(f, null, 2)}\n`);
    }
    return fault;
  });
}

export function latencyOf(dir: string, op: SimOperation): number {
  return readFaults(dir).latencies[op] ?? 0;
}
