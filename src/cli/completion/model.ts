/**
 * What the shell completion scripts offer, made from crtosctl's VERBS table alone (no verb module
 * is loaded): the verbs and their summaries, each verb's options (its own and the common ones)
 * with the values they take where those are fixed, and its operands. Unit ids are not fixed: the
 * scripts ask the running daemon (`crtosctl __complete units`) as the line is completed.
 */
import { COMMON_OPTIONS, type OptionSpec, type Operands, type VerbOptions } from '../options.js';
import { viewKindNames } from '../../kinds/views.js';

/** What an option's value completes to: fixed words, the daemon's unit ids, paths, or nothing (free text). */
export type ValueCompletion = { words: readonly string[] } | { units: true } | { files: 'files' | 'dirs' } | { free: true };

export interface CompletionOption {
  /** Long names, without dashes: the name and its alias. */
  long: string[];
  short?: string;
  help: string;
  /** Undefined: a flag. */
  value?: ValueCompletion;
}

export interface CompletionVerb {
  name: string;
  summary: string;
  options: CompletionOption[];
  operands: Operands;
}

export interface CompletionModel {
  verbs: CompletionVerb[];
  /** What may come before the verb (global-options.ts), and --help, --version. */
  globalOptions: CompletionOption[];
}

/** The table's part the model reads: what crtosctl.entry.ts's VERBS has per verb. */
export interface TableVerb {
  summary: string;
  spec: VerbOptions;
  hidden?: boolean;
}

/**
 * `signals`: the signal names (os.constants.signals' keys), passed in so that crtosctl loads node:os
 * only when it prints a script, not at every start-up.
 */
export function valueCompletion(spec: OptionSpec, signals: readonly string[]): ValueCompletion | undefined {
  if (!spec.value) return undefined;
  const c = spec.complete;
  if (c === undefined) return { free: true };
  if (typeof c !== 'string') return { words: c };
  switch (c) {
    case 'kinds':
      return { words: viewKindNames().map((k) => k.toLowerCase()) };
    case 'signals':
      return { words: signals };
    case 'units':
      return { units: true };
    case 'files':
    case 'dirs':
      return { files: c };
  }
}

function option(spec: OptionSpec, signals: readonly string[]): CompletionOption {
  const value = valueCompletion(spec, signals);
  return { long: spec.alias ? [spec.name, spec.alias] : [spec.name], ...(spec.short ? { short: spec.short } : {}), help: spec.help, ...(value ? { value } : {}) };
}

export function completionModel(table: Readonly<Record<string, TableVerb>>, signals: readonly string[]): CompletionModel {
  const verbs = Object.entries(table)
    .filter(([, v]) => !v.hidden)
    .map(([name, v]) => {
      // The verb's own spec first: a verb may give a common option its own meaning (edit --full).
      const specs = [...v.spec.OPTIONS, ...COMMON_OPTIONS.filter((c) => !v.spec.OPTIONS.some((s) => s.name === c.name))];
      return { name, summary: v.summary, options: specs.map((s) => option(s, signals)), operands: v.spec.OPERANDS };
    });
  const globals = COMMON_OPTIONS.filter((c) => ['bus', 'json', 'no-pager', 'help'].includes(c.name)).map((s) => option(s, signals));
  return { verbs, globalOptions: [...globals, { long: ['version'], help: 'print the version' }] };
}

/** Every spelling of an option on a command line: `--kind`, `--type`, `-t`. */
export function spellings(o: CompletionOption): string[] {
  return [...o.long.map((l) => `--${l}`), ...(o.short ? [`-${o.short}`] : [])];
}
