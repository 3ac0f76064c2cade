/**
 * Fault and timing injection, read from DIR/faults.json on every operation so a running test can
 * change it: an operation fails once, N times or always with an errno, or hangs; an operation
 * takes a set latency; a running cell goes to `failed` at a set time, or inside its start; the
 * driver's slow phases (destroy, disable) take set times.
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
  /** Go to `failed` this long after the cell is started (each start; the inmate host has a timer for it) … */
  afterStartMs?: number;
  /** … or at this wall-clock time (ms since the epoch) … */
  at?: number;
  /**
   * … or inside the start itself: the inmate faults in its first instructions, so the cell is
   * already `failed` (all its CPUs in `cpus_failed_list`) when `jailhouse cell start` returns 0,
   * as on the real hypervisor (upstream Jailhouse seen on QEMU arm64). No guest is started.
   */
  atStart?: boolean;
  /** How many more times this failure fires; absent = on every start (or at its time). */
  times?: number;
}

/** What an injected processor fault does to a remote processor's firmware (src/sim/remoteproc). */
export const PROCESSOR_FAULT_KINDS = ['crash', 'hang', 'boot-fail'] as const;
/** rproc_crash_names: what a crash reports itself as. */
export const PROCESSOR_CRASH_TYPES = ['mmufault', 'watchdog', 'fatal error'] as const;

export interface SimProcessorFault {
  /** The processor's stable name (`/sys/class/remoteproc/remoteprocN/name`). */
  processor: string;
  /**
   * crash: the firmware crashes and the kernel handles it (rproc_report_crash, then recovery if
   * enabled); hang: the firmware stops making progress but the state stays `running` (its
   * heartbeat and rpmsg replies stop); boot-fail: the next firmware load fails the ELF checks (the
   * `start` write, or a recovery, gets EINVAL).
   */
  kind: (typeof PROCESSOR_FAULT_KINDS)[number];
  /** crash and hang: this long after the firmware began running (each run); default 0, at once. */
  afterMs?: number;
  /** crash: the type reported; default `watchdog`. */
  crashType?: (typeof PROCESSOR_CRASH_TYPES)[number];
  /** How many more times this fault fires; absent = on every run (or every load). */
  times?: number;
}

/**
 * How long the driver's slow phases take (ms), under the driver mutex, each with the intermediate
 * state a concurrent reader of sysfs sees on the real machine (src/sim/README.md lists them).
 */
export interface SimTimings {
  /**
   * `cell destroy`, and each cell `disable` destroys: after the hypervisor dropped the cell, its
   * `state` reads `invalid` while the driver brings its CPUs back online one by one (spread over
   * this time); then `cells/N` disappears. Real: ~500 ms (twelve destroys); once more than 30 s.
   */
  destroyMs?: number;
  /**
   * `disable`: after the last non-root cell's directory is gone, the root cell's virtual PCI
   * devices are removed and every CPU leaves the hypervisor; `enabled` still reads 1 and `cells/0`
   * is still there for this long. Real: about 1 s.
   */
  disableMs?: number;
  /**
   * How long one round of the hypervisor's polling for a cell's reply takes (ns): a silent cell
   * with msg_reply_timeout N turns `failed` N rounds after the message, as the real hypervisor
   * counts the timeout in polling rounds, not in time. Not measured on the real machine: the
   * order of a loop reading the comm region with cpu_relax().
   */
  replyPollNs?: number;
}

/** What the real hypervisor showed (upstream Jailhouse on QEMU arm64, 16 CPUs). */
export const REAL_TIMINGS: Required<SimTimings> = { destroyMs: 500, disableMs: 1000, replyPollNs: 100 };
/**
 * Used where faults.json sets none: short, so that the test suite does not wait out real
 * hypervisor phases (`crtos-sim create` sets REAL_TIMINGS unless given --fast-timings).
 */
export const DEFAULT_TIMINGS: Required<SimTimings> = { destroyMs: 20, disableMs: 50, replyPollNs: 100 };
export const TIMING_NAMES = ['destroy', 'disable'] as const;

export interface SimFaultFile {
  faults: SimFault[];
  /** Operation → milliseconds it takes (for jailhouse operations: with the driver mutex held). */
  latencies: Partial<Record<SimOperation, number>>;
  cellFailures: SimCellFailure[];
  /** Faults of remote processors' firmware; absent = none. */
  processorFaults?: SimProcessorFault[];
  /** The driver's slow phases; absent = DEFAULT_TIMINGS. */
  timings?: SimTimings;
}

export function emptyFaults(): SimFaultFile {
  return { faults: [], latencies: {}, cellFailures: [] };
}

export function readFaults(dir: string): SimFaultFile {
  try {
    const parsed = JSON.parse(readFileSync(paths.faults(dir), 'utf8')) as Partial<SimFaultFile>;
    const out: SimFaultFile = { faults: parsed.faults ?? [], latencies: parsed.latencies ?? {}, cellFailures: parsed.cellFailures ?? [] };
    if (parsed.timings !== undefined) out.timings = parsed.timings;
    if (parsed.processorFaults !== undefined) out.processorFaults = parsed.processorFaults;
    return out;
  } catch {
    return emptyFaults();
  }
}

/** The phase durations in force: faults.json's over the defaults. */
export function timingsOf(dir: string): Required<SimTimings> {
  return { ...DEFAULT_TIMINGS, ...readFaults(dir).timings };
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
    const when = [c.afterStartMs !== undefined, c.at !== undefined, c.atStart === true].filter(Boolean).length;
    if (typeof c.cell !== 'string' || when !== 1) problems.push('a cell failure names a cell and exactly one of afterStartMs, at or atStart: true');
    if (c.times !== undefined && (!Number.isInteger(c.times) || c.times < 1)) problems.push(`times must be a positive integer`);
  }
  for (const p of f.processorFaults ?? []) {
    if (typeof p.processor !== 'string' || p.processor === '') problems.push('a processor fault names its processor');
    if (!PROCESSOR_FAULT_KINDS.includes(p.kind)) problems.push(`processor fault kind must be one of ${PROCESSOR_FAULT_KINDS.join(', ')}, not ${JSON.stringify(p.kind)}`);
    if (p.afterMs !== undefined && (p.kind === 'boot-fail' || typeof p.afterMs !== 'number' || !Number.isFinite(p.afterMs) || p.afterMs < 0)) problems.push('afterMs is a number of milliseconds >= 0, for a crash or a hang');
    if (p.crashType !== undefined && (p.kind !== 'crash' || !PROCESSOR_CRASH_TYPES.includes(p.crashType))) problems.push(`crashType is one of ${PROCESSOR_CRASH_TYPES.map((t) => JSON.stringify(t)).join(', ')}, for a crash`);
    if (p.times !== undefined && (!Number.isInteger(p.times) || p.times < 1)) problems.push(`times must be a positive integer`);
  }
  for (const [name, ms] of Object.entries(f.timings ?? {})) {
    if (!(name in DEFAULT_TIMINGS)) problems.push(`unknown timing ${JSON.stringify(name)} (one of: ${Object.keys(DEFAULT_TIMINGS).join(', ')})`);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) problems.push(`timing ${name} must be a number of milliseconds >= 0`);
  }
  return problems;
}

type CountedList = 'faults' | 'cellFailures' | 'processorFaults';
type ItemOf<K extends CountedList> = NonNullable<SimFaultFile[K]>[number];

/**
 * The first item of a list of faults.json that matches, consuming one of its `times` (under the
 * faults lock, so two concurrent processes cannot both take the last one), or undefined.
 */
function takeCounted<K extends CountedList>(dir: string, list: K, matches: (item: ItemOf<K>) => boolean): ItemOf<K> | undefined {
  // Most operations find nothing to take: they need not queue for the lock to learn that (the
  // file is replaced whole, so this read sees it before or after a change, as if it came first).
  if (!((readFaults(dir)[list] ?? []) as ItemOf<K>[]).some(matches)) return undefined;
  return withLock(dir, 'faults', () => {
    const f = readFaults(dir);
    const items = (f[list] ?? []) as ItemOf<K>[];
    const index = items.findIndex(matches);
    if (index < 0) return undefined;
    const item = items[index] as ItemOf<K>;
    if (item.times !== undefined) {
      if (item.times <= 1) items.splice(index, 1);
      else items[index] = { ...item, times: item.times - 1 };
      (f as Record<CountedList, unknown>)[list] = items;
      writeAtomic(paths.faults(dir), `${JSON.stringify(f, null, 2)}\n`);
    }
    return item;
  });
}

/** The first cell failure that matches, consuming one of its `times`, or undefined. */
export function takeCellFailure(dir: string, matches: (f: SimCellFailure) => boolean): SimCellFailure | undefined {
  return takeCounted(dir, 'cellFailures', matches);
}

/** The fault that fires for this operation now, consuming one of its `times`. */
export function takeFault(dir: string, op: SimOperation, targets: string[]): SimFault | undefined {
  return takeCounted(dir, 'faults', (x) => x.op === op && (x.target === undefined || targets.includes(x.target)));
}

/** The first processor fault that matches, consuming one of its `times`, or undefined. */
export function takeProcessorFault(dir: string, matches: (f: SimProcessorFault) => boolean): SimProcessorFault | undefined {
  return takeCounted(dir, 'processorFaults', matches);
}

export function latencyOf(dir: string, op: SimOperation): number {
  return readFaults(dir).latencies[op] ?? 0;
}
