/**
 * The Jailhouse driver and hypervisor as state transitions: each operation checks what the real
 * one checks, in the same order, and answers with the same errno as upstream's driver and hypervisor.
 * Pure apart from the clock: the stand-in CLI does the I/O, and has the inmate host follow the runs.
 *
 * Destroy and disable are not instant on a real machine (src/sim/README.md says how long): their
 * later effects are scheduled as `state.jailhouse.pending` steps, each some time after the one
 * before, applied by `advance` once due. With zero durations every step is due at once and applied
 * in the same transition.
 */
import { randomUUID } from 'node:crypto';
import type { CellConfig, DecodeResult, SystemConfig } from '../jailhouse/index.js';
import type { ErrnoName } from '../host/errno.js';
import type { MachineDescription } from './description.js';
import type { SimCell, SimPendingStep, SimState } from './state.js';
import type { SimTimings } from './faults.js';
import { registerIvshmem, rootIvshmemDevices } from './ivshmem.js';
import { cellPoolPages, poolsAtEnable } from './pools.js';
import { bootLog, printk, poolUsage } from './console.js';

/** Durations of the slow phases (see SimTimings). */
export type PhaseTimings = Required<SimTimings>;

export interface DriverResult {
  errno?: ErrnoName;
  /** What the driver would print to the kernel log; the simulator logs it with the operation. */
  kernelLog?: string;
  /** Cells whose run ended (they left `running`): their guests must be closed before the command returns. */
  endedRuns?: string[];
  /** A cell that was started: the inmate host must serve its guest. */
  started?: SimCell;
  /**
   * The ioctl blocks forever (a cell that never answers, with msg_reply_timeout 0); with
   * `state.jailhouse.frozen` set, so does the whole root side (every later tool and sysfs change).
   */
  hang?: boolean;
  /** Cells that turned `failed` as a side effect (a start that faulted at once, a reconfiguration message unanswered). */
  failed?: { cell: string; why: 'at start' | 'reconfiguration message unanswered' }[];
}

const fail = (errno: ErrnoName, kernelLog?: string): DriverResult => (kernelLog === undefined ? { errno } : { errno, kernelLog });

export type CellRef = { id: number } | { name: string };

/**
 * Configurations arrive decoded by the caller (with our codec, `decodeConfig(bytes, {arch})`), so
 * that this module, and every stand-in that imports it, loads without the codec: most stand-in
 * invocations never read a configuration, and start-up time counts.
 */
function decodeSystem(decoded: DecodeResult, d: MachineDescription): SystemConfig | DriverResult {
  if (!decoded.ok || decoded.config.kind !== 'system') return fail('EINVAL', 'Not a system configuration');
  if (decoded.config.revision !== d.configRevision) return fail('EINVAL', 'Configuration revision mismatch');
  if (decoded.config.arch !== d.arch) return fail('EINVAL', 'Configuration architecture mismatch');
  return decoded.config;
}

function decodeCell(bytes: Uint8Array, decoded: DecodeResult, d: MachineDescription): CellConfig | DriverResult {
  if (bytes.length < 132) return fail('EINVAL', 'Not a cell configuration');
  if (!decoded.ok || decoded.config.kind !== 'cell') return fail('EINVAL', 'Not a cell configuration');
  if (decoded.config.revision !== d.configRevision) return fail('EINVAL', 'Configuration revision mismatch');
  return decoded.config;
}

/** Decoders and lookups answer with either their value or a DriverResult carrying the errno. */
const isResult = (x: object): x is DriverResult => !('kind' in x) && !('cpus' in x);

export function enable(state: SimState, d: MachineDescription, decoded: DecodeResult, configPath: string, configBytes = 0, now = Date.now()): DriverResult {
  // Signature, revision and architecture are checked before "already enabled".
  const config = decodeSystem(decoded, d);
  if (isResult(config)) return config;
  const jh = state.jailhouse;
  if (jh.enabled) return fail('EBUSY');
  const reservedStart = BigInt(d.hypervisorMemory.physStart);
  const reservedEnd = reservedStart + BigInt(d.hypervisorMemory.size);
  const hv = config.hypervisorMemory;
  if (hv.physStart < reservedStart || hv.physStart + hv.size > reservedEnd) {
    return fail('EINVAL', 'request_mem_region failed for hypervisor memory. Did you reserve the memory with "memmap=" or "mem="?');
  }
  const rootCpus = [...config.rootCell.cpus].sort((a, b) => a - b);
  const online = state.cpusOnline;
  if (rootCpus.length !== online.length || !online.every((c) => rootCpus.includes(c))) {
    return fail('EINVAL', 'number of online CPUs differs from the root cell CPU set');
  }
  // The hypervisor sets up the root cell's virtual PCI devices before it activates; a refusal
  // fails the enable, and the console keeps what it printed until then.
  const links = registerIvshmem(config.rootCell, config.rootCell.name, []);
  const pools = poolsAtEnable(config, configBytes);
  const boot = bootLog(config, rootCpus, pools);
  jh.consolePermitted = config.flags.includes('VIRTUAL_DEBUG_CONSOLE');
  if (links.errno) {
    // The driver keeps the console of a failed enable.
    jh.everEnabled = true;
    printk(state, `${boot.early}${links.console}`);
    return fail(links.errno, links.why);
  }
  jh.enabled = true;
  jh.everEnabled = true;
  jh.enabledAt = now;
  jh.pools = pools;
  jh.rootName = config.rootCell.name;
  jh.rootCpus = rootCpus;
  jh.ivshmem = rootIvshmemDevices(config, d);
  jh.cells = [];
  jh.systemConfigPath = configPath;
  printk(state, `${boot.early}${links.console}${boot.late}`);
  pinJailhouseModule(state, +1);
  const m = state.modules.find((x) => x.name === 'jailhouse');
  if (m) m.hypervisorCore = true;
  return { kernelLog: 'The Jailhouse is opening.' };
}

/**
 * Like the driver: destroy every non-root cell (each a full destroy, with its `invalid` phase),
 * remove the root cell's virtual PCI devices, let every CPU leave the hypervisor (`disableMs`,
 * `enabled` still 1, `cells/0` still there), then delete `cells/0` and read `enabled` 0.
 */
export function disable(state: SimState, timings: PhaseTimings, now: number): DriverResult {
  const jh = state.jailhouse;
  if (!jh.enabled) return fail('EINVAL');
  // Cells are destroyed one by one, each under the rules of destroy: a cell cannot be destroyed
  // while another is running/locked. A refusal aborts; cells destroyed so far stay destroyed.
  // (The permission questions are asked here, of every cell in turn; the destroys themselves are
  // steps, so each cell reads `invalid` only once the one before it is gone.)
  const doomed = new Set<SimCell>();
  const rootCpus = new Set(jh.rootCpus);
  const online = new Set(state.cpusOnline);
  const scheduled = (r: DriverResult): DriverResult => {
    const applied = advance(state, now, timings);
    return { ...r, ...merge(applied, r), ...(applied.hang ? { hang: true, kernelLog: applied.kernelLog } : {}) };
  };
  for (const cell of [...jh.cells]) {
    if (jh.cells.some((c) => c !== cell && !doomed.has(c) && c.state === 'running/locked')) return scheduled({ errno: 'EPERM' });
    const refused = askShutdown(state, cell);
    if (refused) return scheduled(refused);
    doomed.add(cell);
    for (const cpu of cell.cpus) rootCpus.add(cpu);
    for (const cpu of cell.offlinedCpus) online.add(cpu);
    scheduleDestroy(state, cell, timings.destroyMs);
  }
  // Checked once the cells gave their CPUs back (driver order), with the sets they will leave.
  if (![...rootCpus].every((c) => online.has(c))) return scheduled({ errno: 'EBUSY' });
  schedule(state, 0, { kind: 'root-devices-gone' });
  schedule(state, timings.disableMs, { kind: 'disabled' });
  return scheduled({ kernelLog: 'The Jailhouse was closed.' });
}

/** Ended runs and failed cells of both, in order. */
function merge(a: Advanced, b: DriverResult): Pick<DriverResult, 'endedRuns' | 'failed'> {
  const endedRuns = [...(b.endedRuns ?? []), ...a.endedRuns];
  const failed = [...(b.failed ?? []), ...a.failed];
  return { ...(endedRuns.length > 0 ? { endedRuns } : {}), ...(failed.length > 0 ? { failed } : {}) };
}

export function createCell(state: SimState, d: MachineDescription, bytes: Uint8Array, decoded: DecodeResult, configPath: string, timings: PhaseTimings): DriverResult {
  const jh = state.jailhouse;
  if (!jh.enabled) return fail('EINVAL');
  const config = decodeCell(bytes, decoded, d);
  if (isResult(config)) return config;
  // Upstream logs the mismatch but returns 0 without creating the cell (driver/cell.c).
  if (config.arch !== d.arch) return { kernelLog: 'Configuration architecture mismatch' };
  const name = config.name.slice(0, 31);
  if (name === jh.rootName || jh.cells.some((c) => c.name === name)) return fail('EEXIST');
  const cpus = [...config.cpus].sort((a, b) => a - b);
  if (d.arch === 'x86' && cpus.includes(0)) return fail('EINVAL', 'Jailhouse: Cannot assign CPU 0 to other cells');
  if (!cpus.every((c) => jh.rootCpus.includes(c))) return fail('EBUSY');
  if (jh.cells.some((c) => c.state === 'running/locked')) return fail('EPERM');
  // The hypervisor maps the configuration into at most 16 temporary pages.
  if (bytes.length > 16 * 4096) return fail('E2BIG');
  const registered = [...jh.ivshmem.map((e) => ({ bdf: e.bdf, id: e.id, cell: jh.rootName })), ...jh.cells.flatMap((c) => c.ivshmem.map((e) => ({ ...e, cell: c.name })))];
  const links = registerIvshmem(config, name, registered);
  printk(state, links.console);
  if (links.errno) return fail(links.errno, links.why);
  let id = 1;
  while (jh.cells.some((c) => c.id === id)) id++;
  const offlinedCpus = cpus.filter((c) => state.cpusOnline.includes(c));
  state.cpusOnline = state.cpusOnline.filter((c) => !cpus.includes(c));
  jh.rootCpus = jh.rootCpus.filter((c) => !cpus.includes(c));
  const cell: SimCell = {
    id,
    name,
    state: 'shut down',
    cpus,
    failedCpus: [],
    offlinedCpus,
    passive: config.flags.includes('PASSIVE_COMMREG'),
    msgReplyTimeout: `0x${config.msgReplyTimeout.toString(16)}`,
    loadableRegions: config.memoryRegions
      .filter((r) => r.flags.includes('WRITE') && r.flags.includes('LOADABLE'))
      .map((r) => ({ virtStart: `0x${r.virtStart.toString(16)}`, size: `0x${r.size.toString(16)}` })),
    images: [],
    configPath,
    ivshmem: links.endpoints,
    poolPages: cellPoolPages(config, bytes.length, d.arch),
  };
  jh.cells.push(cell);
  jh.cells.sort((a, b) => a.id - b.id);
  // The hypervisor tells the other cells before it prints the creation.
  const reconfig = reconfigCompleted(state, cell, timings);
  const created = `Created cell "${name}"\n${poolUsage(state, 'after cell creation')}`;
  // After the replies it waits for, if any.
  if (jh.pending) schedule(state, 0, { kind: 'printk', text: created });
  else printk(state, created);
  return { kernelLog: `Created Jailhouse cell "${name}"`, ...reconfig };
}

/**
 * After a create or destroy the hypervisor sends RECONFIG_COMPLETED to every other non-passive
 * cell that is not shut down or failed, and polls for its reply. A cell that never answers turns
 * `failed` once its msg_reply_timeout polling rounds are over (a step `replyMs(cell)` later, the
 * command holding the driver mutex meanwhile), with an empty failed-CPU list (its CPUs were
 * suspended, not parked by a fault), as the real hypervisor showed. With msg_reply_timeout 0 the
 * hypervisor polls forever with every root CPU suspended: the root side freezes for good.
 */
function reconfigCompleted(state: SimState, changed: SimCell, timings: PhaseTimings): Pick<DriverResult, 'hang' | 'kernelLog'> {
  for (const cell of state.jailhouse.cells) {
    if (cell === changed || cell.passive || ['shut down', 'failed', 'invalid'].includes(cell.state)) continue;
    if ((cell.reply ?? 'approve') !== 'silent') continue;
    if (BigInt(cell.msgReplyTimeout ?? '0') === 0n) return freeze(state, cell, 'the reconfiguration message');
    schedule(state, replyMs(cell, timings), { kind: 'reply-timeout', cell: cell.id });
  }
  return {};
}

/** How long the hypervisor polls a silent cell: msg_reply_timeout rounds of `replyPollNs` each. */
export function replyMs(cell: SimCell, timings: PhaseTimings): number {
  return (Number(BigInt(cell.msgReplyTimeout ?? '0')) * timings.replyPollNs) / 1e6;
}

/** The root side stops for good: the management call never returns (see SimState.jailhouse.frozen). */
function freeze(state: SimState, cell: SimCell, what: string): Pick<DriverResult, 'hang' | 'kernelLog'> {
  state.jailhouse.frozen ??= { cell: cell.name, by: what, at: Date.now() };
  return { hang: true, kernelLog: `waiting for cell "${cell.name}" to answer ${what}` };
}

/** The cell a command names, or the errno the driver answers with. Root cell → EINVAL. */
export function findCell(state: SimState, ref: CellRef): SimCell | DriverResult {
  const jh = state.jailhouse;
  if (!jh.enabled) return fail('EINVAL');
  if ('id' in ref ? ref.id === 0 : ref.name === jh.rootName) return fail('EINVAL');
  const cell = jh.cells.find((c) => ('id' in ref ? c.id === ref.id : c.name === ref.name.slice(0, 31)));
  return cell ?? fail('ENOENT');
}

export interface ImageToLoad {
  size: number;
  target: bigint;
  source: string;
}

/**
 * Shutdown permission: unless the cell is passive or already shut down or failed, the
 * hypervisor asks it. A denial is EPERM; no answer blocks forever with msg_reply_timeout 0,
 * otherwise the cell is set to failed when the timeout expires and the operation goes on.
 */
function askShutdown(state: SimState, cell: SimCell): DriverResult | undefined {
  if (cell.passive || cell.state === 'shut down' || cell.state === 'failed') return undefined;
  const reply = cell.reply ?? 'approve';
  if (reply === 'approve') return undefined;
  if (reply === 'deny') return fail('EPERM', `cell "${cell.name}" denied the shutdown request`);
  if (BigInt(cell.msgReplyTimeout ?? '0') === 0n) return freeze(state, cell, 'the shutdown request');
  // The timeout expired: suspended and failed, no CPU of it parked by a fault.
  printk(state, 'Timeout expired while waiting for reply from target cell\n');
  cell.state = 'failed';
  cell.failedCpus = [];
  return undefined;
}

export function loadCell(state: SimState, ref: CellRef, images: ImageToLoad[]): DriverResult {
  const cell = findCell(state, ref);
  if (isResult(cell)) return cell;
  // Before the shutdown request, which fails a cell that does not answer in time.
  const endedRuns = isRunning(cell) ? [cell.name] : [];
  const refused = askShutdown(state, cell);
  if (refused) return refused;
  if (cell.state !== 'shut down') printk(state, `Cell "${cell.name}" can be loaded\n`);
  // SET_LOADABLE: parks the CPUs, clears failed flags, state `shut down`.
  cell.state = 'shut down';
  cell.failedCpus = [];
  delete cell.runToken;
  for (const image of images) {
    if (image.size === 0) continue;
    const fits = cell.loadableRegions.some((r) => {
      const start = BigInt(r.virtStart);
      return image.target >= start && image.target + BigInt(image.size) <= start + BigInt(r.size);
    });
    if (!fits) return { errno: 'EINVAL', endedRuns };
    cell.images.push({ target: `0x${image.target.toString(16)}`, size: image.size, source: image.source });
  }
  return { endedRuns };
}

/**
 * `faultsAtStart(name)`: the inmate faults in its first instructions (a cell failure with
 * `atStart`); then the cell is `failed`, with all its CPUs, before the ioctl returns, and no
 * runner is started.
 */
export function startCell(state: SimState, ref: CellRef, now: number, faultsAtStart?: (name: string) => boolean): DriverResult {
  const cell = findCell(state, ref);
  if (isResult(cell)) return cell;
  // Starting a running cell restarts it: the cell is asked first.
  const endedRuns = isRunning(cell) ? [cell.name] : [];
  const refused = askShutdown(state, cell);
  if (refused) return refused;
  cell.state = 'running';
  cell.failedCpus = [];
  cell.runToken = randomUUID();
  cell.startedAt = now;
  printk(state, `Started cell "${cell.name}"\n`);
  if (faultsAtStart?.(cell.name)) {
    cell.state = 'failed';
    cell.failedCpus = [...cell.cpus];
    return { endedRuns, failed: [{ cell: cell.name, why: 'at start' }] };
  }
  return { endedRuns, started: cell };
}

export function destroyCell(state: SimState, ref: CellRef, timings: PhaseTimings, now: number): DriverResult {
  const cell = findCell(state, ref);
  if (isResult(cell)) return cell;
  if (state.jailhouse.cells.some((c) => c !== cell && c.state === 'running/locked')) return fail('EPERM');
  const refused = askShutdown(state, cell);
  if (refused) return refused;
  scheduleDestroy(state, cell, timings.destroyMs);
  const r: DriverResult = { kernelLog: `Destroyed Jailhouse cell "${cell.name}"` };
  const applied = advance(state, now, timings);
  return { ...r, ...merge(applied, r), ...(applied.hang ? { hang: true, kernelLog: applied.kernelLog } : {}) };
}

/**
 * Like the driver's cell_destroy: the hypervisor drops the cell (its `state` reads `invalid` from
 * then on, no CPU of it failed) and tells the other cells; then each CPU comes back (online in
 * Linux if the driver had taken it offline, and in the root cell's set), spread over `ms`; then
 * `cells/N` goes.
 */
function scheduleDestroy(state: SimState, cell: SimCell, ms: number): void {
  schedule(state, 0, { kind: 'cell-dropped', cell: cell.id });
  const n = cell.cpus.length;
  for (const cpu of cell.cpus) schedule(state, ms / n, { kind: 'cpu-online', cell: cell.id, cpu });
  schedule(state, n === 0 ? ms : 0, { kind: 'cell-gone', cell: cell.id });
}

function schedule(state: SimState, afterMs: number, action: SimPendingStep['action']): void {
  (state.jailhouse.pending ??= []).push({ afterMs, action });
}

/** What applying due steps did that the caller acts on: runs that ended, cells that failed. */
export interface Advanced {
  /** When the next step is due (epoch ms), or undefined when nothing is pending any more. */
  next?: number;
  endedRuns: string[];
  failed: NonNullable<DriverResult['failed']>;
  /** A step froze the root side (a reconfiguration message to a silent cell without reply timeout). */
  hang?: boolean;
  kernelLog?: string;
}

/**
 * Applies the pending steps due at `now`, in order; the step after an applied one is due its
 * `afterMs` after `now`, so each phase is visible for its whole duration even when a step is
 * applied late.
 */
export function advance(state: SimState, now: number, timings: PhaseTimings): Advanced {
  const jh = state.jailhouse;
  const pending = jh.pending ?? [];
  const out: Advanced = { endedRuns: [], failed: [] };
  for (;;) {
    const head = pending[0];
    if (head === undefined) break;
    head.at ??= now + head.afterMs;
    if (head.at > now) break;
    pending.shift();
    const { action } = head;
    switch (action.kind) {
      case 'cell-dropped': {
        const cell = jh.cells.find((c) => c.id === action.cell);
        if (!cell) break;
        if (isRunning(cell)) out.endedRuns.push(cell.name);
        printk(state, `Closing cell "${cell.name}"\n`);
        cell.state = 'invalid';
        cell.failedCpus = [];
        delete cell.runToken;
        break;
      }
      case 'cpu-online': {
        const cell = jh.cells.find((c) => c.id === action.cell);
        jh.rootCpus = [...new Set([...jh.rootCpus, action.cpu])].sort((a, b) => a - b);
        // Only the CPUs the driver took offline itself come back online.
        if (cell?.offlinedCpus.includes(action.cpu)) state.cpusOnline = [...new Set([...state.cpusOnline, action.cpu])].sort((a, b) => a - b);
        break;
      }
      case 'cell-gone': {
        const cell = jh.cells.find((c) => c.id === action.cell);
        if (!cell) break;
        destroyInPlace(state, cell);
        printk(state, poolUsage(state, 'after cell destruction'));
        // Then the remaining cells are told (cell_reconfig_completed).
        const r = reconfigCompleted(state, cell, timings);
        if (r.hang) return { ...out, ...r };
        break;
      }
      case 'reply-timeout': {
        const cell = jh.cells.find((c) => c.id === action.cell);
        // Answered meanwhile by stopping or failing on its own: the hypervisor stops polling.
        if (!cell || !['running', 'running/locked'].includes(cell.state)) break;
        printk(state, 'Timeout expired while waiting for reply from target cell\n');
        out.endedRuns.push(cell.name);
        cell.state = 'failed';
        cell.failedCpus = [];
        out.failed.push({ cell: cell.name, why: 'reconfiguration message unanswered' });
        break;
      }
      case 'printk':
        printk(state, action.text);
        break;
      case 'root-devices-gone':
        for (const dev of jh.ivshmem) dev.present = false;
        break;
      case 'disabled':
        printk(state, `Shutting down hypervisor\n${jh.rootCpus.map((c) => ` Releasing CPU ${c}\n`).join('')}`);
        jh.enabled = false;
        jh.rootCpus = [];
        jh.ivshmem = [];
        delete jh.pools;
        pinJailhouseModule(state, -1);
        break;
    }
  }
  const head = pending[0];
  if (head === undefined) delete jh.pending;
  else {
    head.at ??= now + head.afterMs;
    out.next = head.at;
  }
  return out;
}

function destroyInPlace(state: SimState, cell: SimCell): void {
  const jh = state.jailhouse;
  jh.cells = jh.cells.filter((c) => c !== cell);
  jh.rootCpus = [...new Set([...jh.rootCpus, ...cell.cpus])].sort((a, b) => a - b);
  // Only the CPUs the driver took offline itself come back online.
  state.cpusOnline = [...new Set([...state.cpusOnline, ...cell.offlinedCpus])].sort((a, b) => a - b);
}

const isRunning = (cell: SimCell) => cell.state === 'running' || cell.state === 'running/locked';

/** A running cell fails: every CPU parked by the hypervisor shows in cpus_failed. */
export function failCell(state: SimState, name: string, runToken?: string): SimCell | undefined {
  const cell = state.jailhouse.cells.find((c) => c.name === name);
  if (!cell || cell.state === 'failed' || cell.state === 'shut down' || cell.state === 'invalid') return undefined;
  if (runToken !== undefined && cell.runToken !== runToken) return undefined;
  cell.state = 'failed';
  cell.failedCpus = [...cell.cpus];
  return cell;
}

function pinJailhouseModule(state: SimState, delta: number): void {
  const m = state.modules.find((x) => x.name === 'jailhouse');
  if (m) m.refcount = Math.max(0, m.refcount + delta);
}
