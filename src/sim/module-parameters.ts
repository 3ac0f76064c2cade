/**
 * Module parameters as the kernel handles them at load (kernel/params.c): each `name=value` of
 * the command line is parsed by the parameter's type, in order; a name the module does not declare
 * is ignored with a warning, a value its type refuses fails the load (EINVAL). Then the module's
 * init runs, and may refuse a value too (the checks a catalog entry declares). Pure.
 */
import type { ErrnoName } from '../host/errno.js';
import { parameterDeclaration, type ModuleCatalogEntry, type ModuleParameterCheck, type ModuleParameterDeclaration } from './description.js';
import { SHMEM_PROTO_SHADOW, pciDevices, type SimState } from './state.js';

/** One parameter of the command line: `name=value`, or a bare `name` (value undefined). */
export interface GivenParameter {
  name: string;
  value?: string;
}

export interface ParameterOutcome {
  /** Every declared parameter's value as sysfs shows it: the default unless given. */
  parameters: Record<string, string>;
  /** What the kernel and the module printed (dmesg lines). */
  kernelLog: string[];
  /** The load fails with this; nothing is loaded. */
  errno?: ErrnoName;
}

/** insmod/modprobe arguments after the module: `name=value` (surrounding double quotes removed) or `name`. */
export function parseGivenParameters(args: string[]): GivenParameter[] {
  return args.map((arg) => {
    const eq = arg.indexOf('=');
    if (eq <= 0) return { name: arg };
    return { name: arg.slice(0, eq), value: arg.slice(eq + 1).replace(/^"(.*)"$/, '$1') };
  });
}

const ULONG_MAX = (1n << 64n) - 1n;

/** kstrtoul(text, 0): 0x… hex, 0… octal, else decimal; an optional leading +; one trailing newline. */
export function parseKernelUlong(text: string): bigint | undefined {
  const m = /^\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\n?$/.exec(text);
  if (!m) return undefined;
  const digits = m[1] as string;
  const octal = digits.length > 1 && digits.startsWith('0') && !/^0[xX]/.test(digits);
  const value = BigInt(octal ? `0o${digits.slice(1)}` : digits);
  return value <= ULONG_MAX ? value : undefined;
}

/** The value as sysfs shows it, or undefined when the type refuses it. */
function setValue(p: ModuleParameterDeclaration, given: string | undefined): string | undefined {
  if ((p.type ?? 'text') === 'text') return given ?? 'Y';
  if (given === undefined) return undefined;
  return parseKernelUlong(given)?.toString();
}

/** A module's own check of a value it accepted by type; the kernel log line when it refuses. */
function checkValue(module: string, name: string, check: ModuleParameterCheck, value: bigint, state: SimState): string | undefined {
  switch (check) {
    case 'shadow-rw-section': {
      const matches = pciDevices(state, SHMEM_PROTO_SHADOW).some((d) => BigInt(d.rw.size) > 0n && BigInt(d.rw.physStart) === value);
      return matches ? undefined : `${module}: ${name} 0x${value.toString(16)} is not the R/W section of any shadow ivshmem device`;
    }
  }
}

/**
 * Applies the command line's parameters to a module about to load. `entry` is the module's catalog
 * entry (undefined: a module that declares nothing).
 */
export function applyModuleParameters(module: string, entry: ModuleCatalogEntry | undefined, given: GivenParameter[], state: SimState): ParameterOutcome {
  const declared = new Map(Object.entries(entry?.parameters ?? {}).map(([k, p]) => [k, parameterDeclaration(p)]));
  const parameters: Record<string, string> = Object.fromEntries([...declared].map(([k, p]) => [k, p.default]));
  const kernelLog: string[] = [];
  const set = new Set<string>();
  for (const { name, value } of given) {
    const p = declared.get(name);
    if (p === undefined) {
      kernelLog.push(`${module}: unknown parameter '${name}' ignored`);
      continue;
    }
    const shown = setValue(p, value);
    if (shown === undefined) {
      kernelLog.push(`${module}: \`${value ?? ''}' invalid for parameter \`${name}'`);
      return { parameters, kernelLog, errno: 'EINVAL' };
    }
    parameters[name] = shown;
    set.add(name);
  }
  // The module's init runs once all parameters are set: only values given on the command line are checked.
  for (const name of set) {
    const p = declared.get(name) as ModuleParameterDeclaration;
    if (p.check === undefined) continue;
    const refused = checkValue(module, name, p.check, BigInt(parameters[name] as string), state);
    if (refused !== undefined) {
      kernelLog.push(refused);
      return { parameters, kernelLog, errno: 'EINVAL' };
    }
  }
  return { parameters, kernelLog };
}
