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

export const SIM_MODULE_MARK = 'crtos-sim-module name=';

function finish(ctx: ToolContext, op: SimOperation, code: number, result: string, message?: string, detail?: Record<string, unknown>): number {
  if (message !== undefined) ctx.err(`${message}\n`);
  logOperation(ctx, { op, args: ctx.args, result, exitCode: code, ...(detail ? { detail } : {}) });
  return code;
}

function parseParameters(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq > 0) out[arg.slice(0, eq)] = arg.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    else out[arg] = 'Y';
  }
  return out;
}

/**
 * Loads a module into the state; the kernel ignores parameters a module does not declare. Returns
 * what the module's init did that the log should show (rtvmm: its RT domain and kernel messages).
 */
function insert(dir: string, state: SimState, d: MachineDescription, name: string, given: Record<string, string>, path?: string): Record<string, unknown> {
  const entry = d.modules.find((m) => m.name === name);
  const parameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry?.parameters ?? {})) parameters[k] = given[k] ?? v;
  const rtvmm = entry?.effect === 'rtvmm' ? loadRtvmm(dir) : undefined;
  state.modules.push({ name, size: entry?.size ?? 16384, parameters, refcount: 0, usedBy: [], ...(path ? { path } : {}), ...(rtvmm ? { rtDomain: rtvmm.domain } : {}) });
  return rtvmm ? { rtDomain: rtvmm.domain, ...(rtvmm.kernelLog.length > 0 ? { kernelLog: rtvmm.kernelLog } : {}) } : {};
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
  const effects = updateState(ctx.dir, (state, desc) => {
    if (state.modules.some((m) => m.name === name)) return undefined;
    return insert(ctx.dir, state, desc, name, parseParameters(rest));
  });
  return finish(ctx, op, 0, 'ok', undefined, { module: name, alreadyLoaded: effects === undefined, ...effects });
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
  const effects = updateState(ctx.dir, (state, d) => {
    if (state.modules.some((m) => m.name === name)) return undefined;
    return insert(ctx.dir, state, d, name, parseParameters(rest), file);
  });
  if (effects === undefined) return finish(ctx, op, 1, 'EEXIST', `insmod: ERROR: could not insert module ${file}: ${strerror('EEXIST')}`);
  return finish(ctx, op, 0, 'ok', undefined, { module: name, ...effects });
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
