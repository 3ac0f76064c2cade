/**
 * Option parsing for the daemon-facing verbs, systemctl style: `--flag`, `--opt=value` or
 * `--opt value`, short aliases, options anywhere among the unit names. `--bus` and `--json` are
 * understood by every verb.
 */
import { UsageError } from './context.js';

export interface OptionSpec {
  /** Long name without dashes. */
  name: string;
  /** One-letter alias. */
  short?: string;
  /** Takes a value. */
  value?: boolean;
  help: string;
}

export interface ParsedArgs {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string>;
}

export const COMMON_OPTIONS: OptionSpec[] = [
  { name: 'bus', value: true, help: 'D-Bus address of crtosd (default: CRTOS_BUS_ADDRESS, else the system bus)' },
  { name: 'json', help: 'print JSON instead of text' },
  // systemctl habits that are no-ops here: crtosctl never pages and never truncates.
  { name: 'no-pager', help: 'accepted for systemctl habits; crtosctl never pages' },
  { name: 'full', short: 'l', help: 'accepted for systemctl habits; lines are never ellipsized' },
  { name: 'help', short: 'h', help: 'show this help' },
];

export function parseArgs(args: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const all = [...COMMON_OPTIONS, ...specs];
  const out: ParsedArgs = { positional: [], flags: new Set(), values: new Map() };
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
    const spec = all.find((s) => (long ? s.name === key : s.short === key));
    if (!spec) throw new UsageError(`unknown option '${a}'`);
    if (!spec.value) {
      if (inline !== undefined && long) throw new UsageError(`option '--${spec.name}' takes no value`);
      out.flags.add(spec.name);
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(`option '--${spec.name}' needs a value`);
    out.values.set(spec.name, value);
  }
  return out;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const at = s.indexOf(sep);
  return at < 0 ? [s, undefined] : [s.slice(0, at), s.slice(at + 1)];
}

export function optionsHelp(usage: string, specs: readonly OptionSpec[]): string {
  const all = [...specs, ...COMMON_OPTIONS];
  const label = (s: OptionSpec): string => `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.value ? '=VALUE' : ''}`;
  const width = Math.max(...all.map((s) => label(s).length));
  return `Usage: crtosctl ${usage}\n\nOptions:\n${all.map((s) => `  ${label(s).padEnd(width)}  ${s.help}`).join('\n')}\n`;
}
