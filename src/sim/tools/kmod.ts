/**
 * Stand-in kmod tools: `modprobe NAME [k=v…]`, `insmod FILE [k=v…]`, `rmmod NAME`, with kmod's
 * messages and exit codes. Modules come from the machine's catalog; a .ko file made by the
 * simulator names its module inside (`crtos-sim-module name=shadow`).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { strerror, type ErrnoName } from '../../host/errno.js';
import { canonicalModuleName, type MachineDescription } from '../description.js';
import { readDescription, updateState } from '../store.js';
import type { SimOperation } from '../faults.js';
import type { SimState } from '../state.js';
import { injected, logOperation, underMachine, type ToolContext } from './context.js';
import { loadRtvmm } from './kmod-rtvmm.js';
import { applyModuleParameters, parseGivenParameters } from '../module-parameters.js';

export const SIM_MODULE_MARK = 'crtos-sim-module name=';

function finish(ctx: ToolContext, op: SimOperation, code: number, result: string, message?: string, detail?: Record<string, unknown>): number {
  if (message !== undefined) ctx.err(`${message}\n`);
  logOperation(ctx, { op, args: ctx.args, result, exitCode: code, ...(detail ? { detail } : {}) });
  return code;
}

/**
 * Loads a module into the state, with its parameters as the kernel takes them. Returns the errno
 * when the load fails (a parameter refused; nothing is loaded), and what the log should show: the
 * kernel log lines, and for rtvmm its RT domain.
 */
function insert(dir: string, state: SimState, d: MachineDescription, name: string, args: string[], path?: string): { errno?: ErrnoName; detail: Record<string, unknown> } {
  const entry = d.modules.find((m) => m.name === name);
  const { parameters, kernelLog, errno } = applyModuleParameters(name, entry, parseGivenParameters(args), state);
  if (errno) return { errno, detail: { kernelLog } };
  const rtvmm = entry?.effect === 'rtvmm' ? loadRtvmm(dir) : undefined;
  if (rtvmm) kernelLog.push(...rtvmm.kernelLog);
  state.modules.push({ name, size: entry?.size ?? 16384, parameters, refcount: 0, usedBy: [], ...(path ? { path } : {}), ...(rtvmm ? { rtDomain: rtvmm.domain } : {}) });
  return { detail: { ...(rtvmm ? { rtDomain: rtvmm.domain } : {}), ...(kernelLog.length > 0 ? { kernelLog } : {}) } };
}

/** kmod's insmod words some errors its own way (mod_strerror). */
function insmodStrerror(errno: ErrnoName): string | undefined {
  return errno === 'EINVAL' ? 'Invalid parameters' : strerror(errno);
}

export function runModprobe(ctx: ToolContext): number {
  const op = 'modprobe';
  const [first, ...rest] = ctx.args;
  if (first === undefined) return finish(ctx, op, 1, 'usage', 'modprobe: ERROR: missing parameters. See -h.');
  if (first === '-r' || first === '--remove') return runRmmod({ ...ctx, args: rest }, 'modprobe');
  if (first.startsWith('-')) return finish(ctx, op, 1, 'usage', `modprobe: invalid option -- '${first.replace(/^-+/, '')}'`);
  const d = readDescription(ctx.dir);
  const name = canonicalModuleName(first);
  const entry = d.modules.find((m) => m.name === name && m.installed);
  if (!entry) return finish(ctx, op, 1, 'ENOENT', `modprobe: FATAL: Module ${first} not found in directory /lib/modules/${d.kernelRelease}`);
  const { errno } = injected(ctx, op, [first, name]);
  if (errno) return finish(ctx, op, 1, errno, `modprobe: ERROR: could not insert '${name}': ${strerror(errno)}`);
  const loaded = updateState(ctx.dir, (state, desc) => {
    if (state.modules.some((m) => m.name === name)) return undefined;
    return insert(ctx.dir, state, desc, name, rest);
  });
  if (loaded?.errno) return finish(ctx, op, 1, loaded.errno, `modprobe: ERROR: could not insert '${name}': ${strerror(loaded.errno)}`, { module: name, ...loaded.detail });
  return finish(ctx, op, 0, 'ok', undefined, { module: name, alreadyLoaded: loaded === undefined, ...loaded?.detail });
}

export function runInsmod(ctx: ToolContext): number {
  const op = 'insmod';
  const [file, ...rest] = ctx.args;
  if (file === undefined) return finish(ctx, op, 1, 'usage', 'insmod: ERROR: missing filename.');
  let content: string;
  try {
    content = readFileSync(underMachine(ctx.dir, file), 'latin1');
  } catch (e) {
    const errno = ((e as NodeJS.ErrnoException).code ?? 'ENOENT') as ErrnoName;
    return finish(ctx, op, 1, errno, `insmod: ERROR: could not load module ${file}: ${strerror(errno) ?? (e as Error).message}`);
  }
  const marked = content.indexOf(SIM_MODULE_MARK);
  if (!content.startsWith('\x7fELF') || marked < 0) {
    return finish(ctx, op, 1, 'ENOEXEC', `insmod: ERROR: could not insert module ${file}: Invalid module format`);
  }
  const name = canonicalModuleName((content.slice(marked + SIM_MODULE_MARK.length).split(/\s/)[0] ?? '').trim());
  const { errno } = injected(ctx, op, [file, name, basename(file)]);
  if (errno) return finish(ctx, op, 1, errno, `insmod: ERROR: could not insert module ${file}: ${strerror(errno)}`);
  const loaded = updateState(ctx.dir, (state, d) => {
    if (state.modules.some((m) => m.name === name)) return undefined;
    return insert(ctx.dir, state, d, name, rest, file);
  });
  if (loaded === undefined) return finish(ctx, op, 1, 'EEXIST', `insmod: ERROR: could not insert module ${file}: ${strerror('EEXIST')}`);
  if (loaded.errno) return finish(ctx, op, 1, loaded.errno, `insmod: ERROR: could not insert module ${file}: ${insmodStrerror(loaded.errno)}`, { module: name, ...loaded.detail });
  return finish(ctx, op, 0, 'ok', undefined, { module: name, ...loaded.detail });
}

export function runRmmod(ctx: ToolContext, tool: 'rmmod' | 'modprobe' = 'rmmod'): number {
  const op: SimOperation = tool;
  const [given] = ctx.args;
  if (given === undefined) return finish(ctx, op, 1, 'usage', `${tool}: ERROR: missing module name.`);
  const name = canonicalModuleName(basename(given).replace(/\.ko$/, ''));
  const { errno } = injected(ctx, op, [given, name]);
  if (errno) return finish(ctx, op, 1, errno, `${tool}: ERROR: could not remove module ${name}: ${strerror(errno)}`);
  const outcome = updateState(ctx.dir, (state): 'ok' | 'ENOENT' | 'EBUSY' => {
    const m = state.modules.find((x) => x.name === name);
    if (!m) return 'ENOENT';
    if (m.refcount > 0 || m.usedBy.length > 0) return 'EBUSY';
    state.modules = state.modules.filter((x) => x !== m);
    return 'ok';
  });
  if (outcome === 'ENOENT') {
    // modprobe -r of a module that is not loaded succeeds quietly.
    if (tool === 'modprobe') return finish(ctx, op, 0, 'ok', undefined, { module: name, notLoaded: true });
    return finish(ctx, op, 1, 'ENOENT', `rmmod: ERROR: Module ${name} is not currently loaded`);
  }
  if (outcome === 'EBUSY') return finish(ctx, op, 1, 'EBUSY', `${tool}: ERROR: Module ${name} is in use`);
  return finish(ctx, op, 0, 'ok', undefined, { module: name });
}
