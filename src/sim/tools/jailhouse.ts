/**
 * Stand-in `jailhouse` CLI: the grammar, usage text, messages and exit codes of upstream's
 * `jailhouse` tool, over the simulated driver (jailhouse-driver.ts); test/sim/tools/jailhouse.test.ts
 * checks them case by case.
 * All commands hold the driver mutex for their whole run, so concurrent invocations serialize.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { strerror, type ErrnoName } from '../../host/errno.js';
import { appendLog, epochNow, readDescription, readState, sleep, sleepSync, updateState, withLockAsync } from '../store.js';
import * as driver from '../jailhouse-driver.js';
import { takeCellFailure, timingsOf, type SimOperation } from '../faults.js';
import type { SimCell } from '../state.js';
import { injected, logOperation, underMachine, type ToolContext } from './context.js';
import { startInmate, syncInmates } from '../inmates/control.js';
import { loadCodec } from '../codec-loader.js';

const USAGE = `Usage: %s { COMMAND | --help | --version }

Available commands:
   enable SYSCONFIG
   disable
   console [-f | --follow]
   cell create CELLCONFIG
   cell list
   cell load { ID | [--name] NAME } { IMAGE | { -s | --string } "STRING" }
             [-a | --address ADDRESS] ...
   cell start { ID | [--name] NAME }
   cell shutdown { ID | [--name] NAME }
   cell destroy { ID | [--name] NAME }
   cell linux [-h] [-d DTB] [-i INITRD] [-c "CMDLINE"] [-w PARAMS_FILE]
              [-a ARCH] [-k FACTOR]
              CELLCONFIG KERNEL
   cell stats { ID | [--name] NAME }
   config create [-h] [-g] [-r ROOT] [-t TEMPLATE_DIR] [-c CONSOLE]
                 [--mem-inmates MEM_INMATES] [--mem-hv MEM_HV]
                 FILE
   config collect FILE.TAR
   config check [-h] SYSCONFIG [CELLCONFIG [CELLCONFIG ...]]
   hardware check 
`;

const EXTENSIONS: [string, string][] = [
  ['cell', 'linux'],
  ['cell', 'stats'],
  ['config', 'create'],
  ['config', 'collect'],
  ['config', 'check'],
  ['hardware', 'check'],
];

/** Thrown to end the command with an exit code, like the C tool's exit(). */
class Exit {
  constructor(readonly code: number) {}
}

export async function runJailhouse(ctx: ToolContext): Promise<number> {
  try {
    return await dispatch(ctx);
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  }
}

function help(ctx: ToolContext, code: number): never {
  // Upstream prints the help to stdout, also when it exits 1 for bad arguments.
  ctx.out(USAGE.replace('%s', 'jailhouse'));
  logOperation(ctx, { op: opOf(ctx.args), args: ctx.args, result: code === 0 ? 'ok' : 'usage', exitCode: code });
  throw new Exit(code);
}

/** The operation a command line names, for the log; `jailhouse` for one that names none. */
function opOf(args: string[]): string {
  const [a, b] = args;
  if (a === 'cell' && ['create', 'load', 'start', 'shutdown', 'destroy', 'list'].includes(b ?? '')) return `jailhouse cell ${b}`;
  if (a === 'enable' || a === 'disable' || a === 'console') return `jailhouse ${a}`;
  return 'jailhouse';
}

function dispatch(ctx: ToolContext): number | Promise<number> {
  const args = ctx.args;
  const argc = args.length + 1;
  const cmd = args[0];
  if (cmd === undefined) help(ctx, 1);
  switch (cmd) {
    case 'enable':
      if (argc !== 3) help(ctx, 1);
      return enable(ctx, args[1] as string);
    case 'disable': {
      const timings = timingsOf(ctx.dir);
      return ioctl(ctx, 'jailhouse disable', 'JAILHOUSE_DISABLE', [], (state) => driver.disable(state, timings, Date.now()), phaseDetail(timings, ['destroyMs', 'disableMs']));
    }
    case 'cell':
      return cell(ctx);
    case 'console':
      return consoleCmd(ctx);
    case 'config':
    case 'hardware':
      extension(ctx);
      return help(ctx, 1);
    case '--version':
      ctx.out(`Jailhouse management tool ${readDescription(ctx.dir).configRevision === 12 ? 'v0.12' : 'v0.12-324-ge57d1eff'}\n`);
      return 0;
    case '--help':
      return help(ctx, 0);
    default:
      return help(ctx, 1);
  }
}

function extension(ctx: ToolContext): void {
  const [cmd, sub] = ctx.args;
  if (EXTENSIONS.some(([c, s]) => c === cmd && s === sub)) {
    // The real tool execs jailhouse-<cmd>-<sub> from its helper directory; the simulator has none.
    ctx.err(`execvp: ${strerror('ENOENT')}\n`);
    logOperation(ctx, { op: `jailhouse ${cmd} ${sub}`, args: ctx.args, result: 'ENOENT', exitCode: 1 });
    throw new Exit(1);
  }
}

function cell(ctx: ToolContext): number | Promise<number> {
  const args = ctx.args;
  const argc = args.length + 1;
  if (argc < 3) help(ctx, 1);
  const sub = args[1];
  switch (sub) {
    case 'create':
      if (argc !== 4) help(ctx, 1);
      return create(ctx, args[2] as string);
    case 'list':
      if (argc !== 3) help(ctx, 1);
      return list(ctx);
    case 'load':
      return load(ctx);
    case 'start':
    case 'shutdown':
    case 'destroy': {
      const { ref, consumed } = parseCellId(ctx, args.slice(2));
      if (argc !== 3 + consumed) help(ctx, 1);
      const op = `jailhouse cell ${sub}` as SimOperation;
      if (sub === 'start') {
        // An inmate that faults in its first instructions is failed before the ioctl returns.
        const faultsAtStart = (name: string) => takeCellFailure(ctx.dir, (f) => f.cell === name && f.atStart === true) !== undefined;
        return ioctl(ctx, op, 'JAILHOUSE_CELL_START', targetsOf(ref), (state) => driver.startCell(state, ref, Date.now(), faultsAtStart));
      }
      if (sub === 'destroy') {
        const timings = timingsOf(ctx.dir);
        return ioctl(ctx, op, 'JAILHOUSE_CELL_DESTROY', targetsOf(ref), (state) => driver.destroyCell(state, ref, timings, Date.now()), phaseDetail(timings, ['destroyMs']));
      }
      // There is no shutdown ioctl: the tool loads zero images, and reports as CELL_LOAD.
      return ioctl(ctx, op, 'JAILHOUSE_CELL_LOAD', targetsOf(ref), (state) => driver.loadCell(state, ref, []));
    }
    default:
      extension(ctx);
      return help(ctx, 1);
  }
}

/** The phase durations a command used, for its log line; none when they are all zero. */
function phaseDetail(timings: driver.PhaseTimings, names: (keyof driver.PhaseTimings)[]): Record<string, unknown> {
  const used = Object.fromEntries(names.filter((n) => timings[n] > 0).map((n) => [n, timings[n]]));
  return Object.keys(used).length > 0 ? { timings: used } : {};
}

function targetsOf(ref: driver.CellRef): string[] {
  return 'id' in ref ? [String(ref.id)] : [ref.name];
}

/** strtoll(s, &end, 0) that must consume the whole string; undefined when it does not. */
export function parseCInteger(text: string): bigint | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const body = m[2] as string;
  const value = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body.startsWith('0') ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
  return m[1] === '-' ? -value : value;
}

function parseCellId(ctx: ToolContext, rest: string[]): { ref: driver.CellRef; consumed: number } {
  const first = rest[0];
  if (first === undefined) help(ctx, 1);
  if (first === '--name') {
    const name = rest[1];
    if (name === undefined) help(ctx, 1);
    return { ref: { name: name.slice(0, 31) }, consumed: 2 };
  }
  const id = parseCInteger(first);
  if (id !== undefined && id >= 0n && id <= 0x7fffffffn) return { ref: { id: Number(id) }, consumed: 1 };
  return { ref: { name: first.slice(0, 31) }, consumed: 1 };
}

function readInput(ctx: ToolContext, op: SimOperation, file: string): Uint8Array {
  try {
    return readFileSync(underMachine(ctx.dir, file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code as ErrnoName;
    ctx.err(`opening ${file}: ${strerror(code) ?? (e as Error).message}\n`);
    logOperation(ctx, { op, args: ctx.args, result: code, exitCode: 1 });
    throw new Exit(1);
  }
}

/** open("/dev/jailhouse"): exists only while the module is loaded. */
function openDevice(ctx: ToolContext, op: SimOperation): void {
  try {
    readFileSync(join(ctx.dir, 'dev', 'jailhouse'));
  } catch {
    ctx.err(`opening /dev/jailhouse: ${strerror('ENOENT')}\n`);
    logOperation(ctx, { op, args: ctx.args, result: 'ENOENT', exitCode: 1 });
    throw new Exit(1);
  }
}

/**
 * One ioctl: under the driver mutex, open the device, apply injected latency/faults, run the
 * driver transition, have the inmate host close the guests of runs that ended, then wait out the
 * operation's timed phases (destroy, disable) with the mutex held, applying each step when due.
 */
async function ioctl(
  ctx: ToolContext,
  op: SimOperation,
  ioctlName: string,
  targets: string[],
  transition: Parameters<typeof updateState<driver.DriverResult>>[1],
  detail: Record<string, unknown> = {},
): Promise<number> {
  // Start-up ends here (arguments parsed, inputs read and decoded); the wait for the lock is not
  // the operation's own time, so the log keeps it apart.
  ctx.clock.workStart = epochNow();
  let started: SimCell | undefined;
  const code = await withLockAsync(ctx.dir, 'jailhouse', async () => {
    ctx.clock.lockAcquired = epochNow();
    // A command killed during its timed phases left them to the kernel, which finishes them
    // before anyone else gets the mutex.
    await finishPending(ctx, op);
    openDevice(ctx, op);
    const { errno: injectedErrno, fault } = injected(ctx, op, targets);
    const result: driver.DriverResult = injectedErrno ? { errno: injectedErrno } : updateState(ctx.dir, transition);
    act(ctx, op, result);
    if (result.hang) {
      // What it did before (cells destroyed by a disable) is done; then it waits.
      await finishPending(ctx, op);
      hangForever(ctx, op, result.kernelLog, detail);
    }
    started = result.started;
    await finishPending(ctx, op);
    const logDetail = { ...detail, ...(result.kernelLog ? { kernelLog: result.kernelLog } : {}), ...(fault ? { fault } : {}) };
    if (result.errno) {
      ctx.err(`${ioctlName}: ${strerror(result.errno)}\n`);
      logOperation(ctx, { op, args: ctx.args, result: result.errno, exitCode: 1, detail: logDetail });
      return 1;
    }
    logOperation(ctx, { op, args: ctx.args, result: 'ok', exitCode: 0, detail: logDetail });
    return 0;
  });
  // The guest of a started cell runs on its own CPUs: Linux pays nothing for it, least of all
  // under the driver mutex. The inmate host is told once the mutex is free, before the command
  // returns (it listens after that; a command in between that ends the run, it follows too).
  if (started) startInmate(ctx.dir);
  return code;
}

/**
 * The ioctl waits for a cell that never answers, holding the driver mutex, until killed or until
 * its machine is destroyed (so a test can always clean up). With the root side frozen
 * (state.jailhouse.frozen), every later stand-in waits too (store.ts).
 */
function hangForever(ctx: ToolContext, op: SimOperation, kernelLog: string | undefined, detail: Record<string, unknown>): never {
  const frozen = readState(ctx.dir).jailhouse.frozen;
  logOperation(ctx, { op, args: ctx.args, result: 'hang', detail: { ...detail, kernelLog, pid: process.pid, ...(frozen ? { frozen } : {}) } });
  while (existsSync(ctx.dir)) sleepSync(100);
  throw new Exit(1);
}

/**
 * Applies the pending steps of a destroy or disable as each falls due, until none is left: stops
 * the runners of cells the hypervisor dropped, logs cells that failed meanwhile.
 */
async function finishPending(ctx: ToolContext, op: SimOperation): Promise<void> {
  if (readState(ctx.dir).jailhouse.pending === undefined) return;
  for (;;) {
    const timings = timingsOf(ctx.dir);
    const r = updateState(ctx.dir, (state) => driver.advance(state, Date.now(), timings));
    act(ctx, op, r);
    if (r.hang) hangForever(ctx, op, r.kernelLog, {});
    if (r.next === undefined) return;
    await sleep(Math.max(1, r.next - Date.now()));
  }
}

function act(ctx: ToolContext, op: SimOperation, r: Pick<driver.DriverResult, 'endedRuns' | 'failed'>): void {
  if ((r.endedRuns ?? []).length > 0) syncInmates(ctx.dir);
  for (const f of r.failed ?? []) appendLog(ctx.dir, { op: 'cell failed', args: [f.cell], result: 'failed', detail: { by: op, why: f.why } });
}

/** The codec is loaded only by the two commands that read a configuration. */
async function decode(ctx: ToolContext, bytes: Uint8Array) {
  const { decodeConfig } = await loadCodec();
  return decodeConfig(bytes, { arch: readDescription(ctx.dir).arch });
}

async function enable(ctx: ToolContext, file: string): Promise<number> {
  const bytes = readInput(ctx, 'jailhouse enable', file);
  const decoded = await decode(ctx, bytes);
  return ioctl(ctx, 'jailhouse enable', 'JAILHOUSE_ENABLE', [basename(file)], (state, d) => driver.enable(state, d, decoded, file, bytes.length));
}

async function create(ctx: ToolContext, file: string): Promise<number> {
  const bytes = readInput(ctx, 'jailhouse cell create', file);
  const decoded = await decode(ctx, bytes);
  // A fault may name the file or the cell it describes.
  const name = decoded.ok && decoded.config.kind === 'cell' ? decoded.config.name : undefined;
  const targets = name === undefined ? [basename(file)] : [basename(file), name];
  const timings = timingsOf(ctx.dir);
  return ioctl(ctx, 'jailhouse cell create', 'JAILHOUSE_CELL_CREATE', targets, (state, d) => driver.createCell(state, d, bytes, decoded, file, timings), name === undefined ? {} : { cell: name });
}

function load(ctx: ToolContext): Promise<number> {
  const args = ctx.args;
  const argc = args.length + 1;
  if (argc < 4) help(ctx, 1);
  const { ref, consumed } = parseCellId(ctx, args.slice(2));
  let i = 2 + consumed;
  if (i >= args.length) help(ctx, 1);
  const images: driver.ImageToLoad[] = [];
  while (i < args.length) {
    const arg = args[i] as string;
    let image: driver.ImageToLoad;
    if (arg === '-s' || arg === '--string') {
      const text = args[i + 1];
      if (text === undefined) help(ctx, 1);
      // strlen + 1: the NUL terminator is loaded too.
      image = { size: Buffer.byteLength(text) + 1, target: 0n, source: `string:${text}` };
      i += 2;
    } else {
      image = { size: readInput(ctx, 'jailhouse cell load', arg).length, target: 0n, source: arg };
      i += 1;
    }
    const next = args[i];
    if (next === '-a' || next === '--address') {
      const value = args[i + 1];
      if (value === undefined) help(ctx, 1);
      const target = parseCInteger(value);
      if (target === undefined) help(ctx, 1);
      image.target = BigInt.asUintN(64, target);
      i += 2;
    }
    images.push(image);
  }
  return ioctl(ctx, 'jailhouse cell load', 'JAILHOUSE_CELL_LOAD', targetsOf(ref), (state) => driver.loadCell(state, ref, images), {
    images: images.map((im) => ({ source: im.source, size: im.size, address: `0x${im.target.toString(16)}` })),
  });
}

function pad(text: string, width: number): string {
  return text.padEnd(width);
}

function list(ctx: ToolContext): number {
  const cellsDir = join(ctx.dir, 'sys/devices/jailhouse/cells');
  const { errno } = injected(ctx, 'jailhouse cell list', []);
  if (errno) {
    ctx.err(`reading /sys/devices/jailhouse/cells: ${strerror(errno)}\n`);
    logOperation(ctx, { op: 'jailhouse cell list', args: ctx.args, result: errno, exitCode: 1 });
    return 1;
  }
  let entries: string[];
  try {
    entries = readdirSync(cellsDir).filter((e) => !e.startsWith('.'));
  } catch {
    logOperation(ctx, { op: 'jailhouse cell list', args: ctx.args, result: 'ok', exitCode: 0 });
    return 0;
  }
  // scandir with alphasort: string order of the ids ("10" before "2").
  entries.sort();
  let out = '';
  if (entries.length > 0) out += `${pad('ID', 8)}${pad('Name', 24)}${pad('State', 18)}${pad('Assigned CPUs', 24)}${pad('Failed CPUs', 24)}\n`;
  for (const id of entries) {
    const read = (attr: string) => {
      const path = join(cellsDir, id, attr);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        // The cell went between the directory listing and this read (a destroy finishing).
        const code = ((e as NodeJS.ErrnoException).code ?? 'EIO') as ErrnoName;
        ctx.err(`opening /sys/devices/jailhouse/cells/${id}/${attr}: ${strerror(code) ?? (e as Error).message}\n`);
        logOperation(ctx, { op: 'jailhouse cell list', args: ctx.args, result: code, exitCode: 1 });
        throw new Exit(1);
      }
      if (text === '') {
        ctx.err(`reading ${path}: ${strerror('EINVAL')}\n`);
        throw new Exit(1);
      }
      return text.replace(/\n$/, '');
    };
    out += `${pad(id, 8)}${pad(read('name'), 24)}${pad(read('state'), 18)}${pad(read('cpus_assigned_list'), 24)}${pad(read('cpus_failed_list'), 24)}\n`;
  }
  ctx.out(out);
  logOperation(ctx, { op: 'jailhouse cell list', args: ctx.args, result: 'ok', exitCode: 0 });
  return 0;
}

function consoleCmd(ctx: ToolContext): number {
  openDevice(ctx, 'jailhouse console');
  const state = readState(ctx.dir);
  const fail = (errno: ErrnoName) => {
    ctx.err(`read(console): ${strerror(errno)}\n`);
    logOperation(ctx, { op: 'jailhouse console', args: ctx.args, result: errno, exitCode: 1 });
    return 1;
  };
  const { errno } = injected(ctx, 'jailhouse console', []);
  if (errno) return fail(errno);
  if (!state.jailhouse.everEnabled) return fail('EAGAIN');
  if (state.jailhouse.consolePermitted === false) return fail('EPERM');
  ctx.out(state.jailhouse.console);
  logOperation(ctx, { op: 'jailhouse console', args: ctx.args, result: 'ok', exitCode: 0 });
  const follow = ctx.args[1] === '-f' || ctx.args[1] === '--follow';
  if (follow) {
    // Like the driver's poll every HZ/10: print what was appended, until killed.
    let shown = state.jailhouse.console.length;
    for (;;) {
      sleepSync(100);
      const text = readState(ctx.dir).jailhouse.console;
      if (text.length > shown) ctx.out(text.slice(shown));
      shown = text.length;
    }
  }
  return 0;
}
