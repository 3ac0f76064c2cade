/**
 * Option parsing for the daemon-facing verbs, systemctl style: `--flag`, `--opt=value` or
 * `--opt value`, short aliases (bundled: `-qa`; with a value: `-n5`, `-n 5`), options anywhere among
 * the unit names. `--bus` and `--json` are
 * understood by every verb. The same specs describe each verb in crtosctl's VERBS table, from which
 * `--help` and the shell completion scripts are generated.
 */
import { UsageError } from './context.js';

export interface OptionSpec {
  /** Long name without dashes. */
  name: string;
  /** One-letter alias. */
  short?: string;
  /** A second long name parsed as this one (`--type` for `--kind`, as systemctl spells it). */
  alias?: string;
  /** Takes a value. */
  value?: boolean;
  /**
   * What completion offers for the value: fixed words, or where they come from ('kinds': the kind
   * registry, 'signals': signal names, 'units': the running daemon's unit ids, 'files'/'dirs': paths).
   */
  complete?: readonly string[] | ValueSource;
  help: string;
}

export type ValueSource = 'kinds' | 'signals' | 'units' | 'files' | 'dirs';

/**
 * What a verb takes besides options: nothing, one unit id, unit ids, files, directories, or one of
 * fixed sub-verbs (a string[]). Completion offers them; `--help` prints them.
 */
export type Operands = 'none' | 'unit' | 'units' | 'files' | 'dirs' | readonly string[];

/**
 * A verb's `verbs/<verb>.options.ts`: what the VERBS table knows of it without loading it. USAGE
 * (what follows `crtosctl VERB` in the usage line) is derived from OPERANDS unless given; OWN_HELP
 * marks a verb that prints its own, longer --help.
 */
export interface VerbOptions {
  OPTIONS: readonly OptionSpec[];
  OPERANDS: Operands;
  USAGE?: string;
  OWN_HELP?: boolean;
}

export interface ParsedArgs {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string>;
  /** Every value of each option given more than once (`--units A --units B`), in order; `values` has the last. */
  valueLists: Map<string, string[]>;
}

export const COMMON_OPTIONS: OptionSpec[] = [
  { name: 'bus', value: true, help: 'D-Bus address of crtosd (default: CRTOS_BUS_ADDRESS, else the system bus)' },
  { name: 'json', help: 'print JSON instead of text' },
  // systemctl habits that are no-ops here: crtosctl never pages and never truncates.
  { name: 'no-pager', help: 'accepted for systemctl habits; crtosctl never pages' },
  { name: 'full', short: 'l', help: 'accepted for systemctl habits; lines are never ellipsized' },
  { name: 'help', short: 'h', help: 'show this help' },
];

export function parseArgs(given: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const all = [...specs, ...COMMON_OPTIONS];
  const out: ParsedArgs = { positional: [], flags: new Set(), values: new Map(), valueLists: new Map() };
  const args = [...given];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      out.positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.positional.push(a);
      continue;
    }
    const long = a.startsWith('--');
    const [key, inline] = long ? splitOnce(a.slice(2), '=') : [a.slice(1, 2), a.length > 2 ? a.slice(2) : undefined];
    const spec = all.find((s) => (long ? s.name === key || s.alias === key : s.short === key));
    if (!spec) throw new UsageError(`unknown option '${a}'`);
    if (!spec.value) {
      if (inline !== undefined && long) throw new UsageError(`option '--${spec.name}' takes no value`);
      out.flags.add(spec.name);
      // Short flags bundled as getopt takes them (`-qa` is -q -a; `-an5` is -a -n 5): the rest is read next.
      if (inline !== undefined) args.splice(i + 1, 0, `-${inline}`);
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(`option '--${spec.name}' needs a value`);
    out.values.set(spec.name, value);
    out.valueLists.set(spec.name, [...(out.valueLists.get(spec.name) ?? []), value]);
  }
  return out;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const at = s.indexOf(sep);
  return at < 0 ? [s, undefined] : [s.slice(0, at), s.slice(at + 1)];
}

/** The usage line's operands for a verb that does not spell its own USAGE. */
export function operandsUsage(operands: Operands): string {
  if (typeof operands !== 'string') return `{${operands.join('|')}} ...`;
  return { none: '', unit: 'UNIT', units: 'UNIT...', files: 'FILE...', dirs: 'DIR...' }[operands];
}

export function optionsHelp(usage: string, specs: readonly OptionSpec[]): string {
  // A verb may give a common option its own meaning (edit --full); its spec is the one shown.
  const all = [...specs, ...COMMON_OPTIONS.filter((c) => !specs.some((s) => s.name === c.name))];
  const label = (s: OptionSpec): string =>
    `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.value ? '=VALUE' : ''}${s.alias ? `, --${s.alias}${s.value ? '=VALUE' : ''}` : ''}`;
  const width = Math.max(...all.map((s) => label(s).length));
  return `Usage: crtosctl ${usage}\n\nOptions:\n${all.map((s) => `  ${label(s).padEnd(width)}  ${s.help}`).join('\n')}\n`;
}
