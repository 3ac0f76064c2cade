/**
 * crtosctl: the command line on top of crtosd's D-Bus API, with systemctl's verbs and habits.
 * Verbs live in verbs/<verb>.ts and are imported on demand, so `crtosctl status` loads nothing
 * that `validate` needs. What a verb takes (its options and operands, verbs/<verb>.options.ts) is
 * imported statically into the VERBS table below, the one list of verbs: `--help` and the shell
 * completion scripts are made from it without loading any verb. Exit codes are mapped here and
 * nowhere else.
 */
import { EXIT_CODES, type ExitKind } from './exit-codes.js';
import { UsageError, type CliContext } from './context.js';
import { isProblemError } from '../errors/problem.js';
import { renderProblems } from '../errors/render.js';
import { EXIT_STATUS_HELP, hoistGlobalOptions } from './global-options.js';
import { COMMON_OPTIONS, operandsUsage, optionsHelp, type OptionSpec, type VerbOptions } from './options.js';
import { localeIsUtf8 } from './format/text.js';
import * as statusOpts from './verbs/status.options.js';
import * as listUnitsOpts from './verbs/list-units.options.js';
import * as jobsOpts from './jobs.options.js';
import * as reloadOpts from './verbs/reload.options.js';
import * as showOpts from './verbs/show.options.js';
import * as catOpts from './verbs/cat.options.js';
import * as isActiveOpts from './verbs/is-active.options.js';
import * as planOpts from './verbs/plan.options.js';
import * as validateOpts from './verbs/validate.options.js';
import * as cellConfigOpts from './verbs/cell-config.options.js';
import * as listDependenciesOpts from './verbs/list-dependencies.options.js';
import * as resetFailedOpts from './verbs/reset-failed.options.js';
import * as listJobsOpts from './verbs/list-jobs.options.js';
import * as killOpts from './verbs/kill.options.js';
import * as maskOpts from './verbs/mask.options.js';
import * as isFailedOpts from './verbs/is-failed.options.js';
import * as editOpts from './verbs/edit.options.js';
import * as completionOpts from './verbs/completion.options.js';
import * as completeOpts from './verbs/__complete.options.js';
import * as metricsOpts from './verbs/metrics.options.js';
import * as factsOpts from './verbs/facts.options.js';
import * as analyzeOpts from './verbs/analyze.options.js';
import * as logsOpts from './verbs/logs.options.js';

// The verbs bundled apart from crtosctl (CTL_LAZY_VERBS in scripts/bundles.mjs) import these from
// the bundle itself, so the classes the catch in main() tests with instanceof are the very same.
export * from '../errors/problem.js';
export * from './context.js';

export interface Verb {
  summary: string;
  /** The verb's options.ts module: OPTIONS, OPERANDS (and USAGE, OWN_HELP when it has them). */
  spec: VerbOptions;
  load: () => Promise<{ run(ctx: CliContext): Promise<ExitKind> }>;
  /** Left out of --help and of completion (crtosctl's own plumbing). */
  hidden?: boolean;
}

// One line per verb: summary, options module, the verb module loaded when it runs.
export const VERBS: Record<string, Verb> = {
  status: { summary: 'Show the daemon and unit status', spec: statusOpts, load: () => import('./verbs/status.js') },
  'list-units': { summary: 'List units with their states', spec: listUnitsOpts, load: () => import('./verbs/list-units.js') },
  start: { summary: 'Start units and wait for the result', spec: jobsOpts, load: () => import('./verbs/start.js') },
  stop: { summary: 'Stop units and wait for the result', spec: jobsOpts, load: () => import('./verbs/stop.js') },
  restart: { summary: 'Restart units and wait for the result', spec: jobsOpts, load: () => import('./verbs/restart.js') },
  reload: { summary: 'Reload the unit files and apply them', spec: reloadOpts, load: () => import('./verbs/reload.js') },
  show: { summary: 'Show unit properties', spec: showOpts, load: () => import('./verbs/show.js') },
  cat: { summary: 'Show unit files with their drop-ins', spec: catOpts, load: () => import('./verbs/cat.js') },
  'is-active': { summary: 'Print units\' states; exit 0 when one is active (3 inactive, 4 unknown)', spec: isActiveOpts, load: () => import('./verbs/is-active.js') },
  plan: { summary: 'Show what a reload would change', spec: planOpts, load: () => import('./verbs/plan.js') },
  validate: { summary: 'Check unit files offline (no daemon needed)', spec: validateOpts, load: () => import('./verbs/validate.js') },
  'cell-config': { summary: 'Show, build and check Jailhouse .cell files', spec: cellConfigOpts, load: () => import('./verbs/cell-config.js') },
  'list-dependencies': { summary: 'Show the units a unit requires or wants (--reverse: what requires it) as a tree', spec: listDependenciesOpts, load: () => import('./verbs/list-dependencies.js') },
  'daemon-reload': { summary: 'The same as reload (systemctl\'s name)', spec: reloadOpts, load: () => import('./verbs/reload.js') },
  'reset-failed': { summary: 'Clear units\' failed state, start-limit and failure counts (all units without one)', spec: resetFailedOpts, load: () => import('./verbs/reset-failed.js') },
  'list-jobs': { summary: 'List the jobs queued or running', spec: listJobsOpts, load: () => import('./verbs/list-jobs.js') },
  kill: { summary: 'Send a signal to the processes of units that run one (loaders)', spec: killOpts, load: () => import('./verbs/kill.js') },
  mask: { summary: 'Mask units: they are not started until unmasked (--runtime: until reboot)', spec: maskOpts, load: () => import('./verbs/mask.js') },
  unmask: { summary: 'Lift masks', spec: maskOpts, load: () => import('./verbs/unmask.js') },
  'is-failed': { summary: 'Print units\' states; exit 0 when one is failed, else 1 (4 unknown)', spec: isFailedOpts, load: () => import('./verbs/is-failed.js') },
  edit: { summary: 'Edit a drop-in (--full: the unit file) with $EDITOR; installed only when the set stays valid', spec: editOpts, load: () => import('./verbs/edit.js') },
  completion: { summary: 'Print the shell completion script for bash, zsh or fish', spec: completionOpts, load: () => import('./verbs/completion.js') },
  __complete: { summary: 'Unit ids for the completion scripts', spec: completeOpts, load: () => import('./verbs/__complete.js'), hidden: true },
  metrics: { summary: 'Print the metrics in Prometheus\'s text format, as the metrics file holds them', spec: metricsOpts, load: () => import('./verbs/metrics.js') },
  facts: { summary: 'Print what crtosd knows of this machine (a facts file for validate --facts)', spec: factsOpts, load: () => import('./verbs/facts.js') },
  analyze: { summary: 'Analyze the bring-up: plot (SVG), dot, critical-chain, blame', spec: analyzeOpts, load: () => import('./verbs/analyze.js') },
  logs: { summary: 'Show crtosd\'s lines about units and their loaders\' output, in time order (-f follows)', spec: logsOpts, load: () => import('./verbs/logs.js') },
};

export function usage(): string {
  const shown = Object.entries(VERBS).filter(([, v]) => !v.hidden);
  const width = Math.max(...shown.map(([name]) => name.length));
  const lines = shown.map(([name, v]) => `  ${name.padEnd(width)}  ${v.summary}`);
  return `Usage: crtosctl [--bus ADDRESS] [--json] VERB [ARGS...]\n\nVerbs:\n${lines.join('\n')}\n\nRun 'crtosctl VERB --help' for a verb's options.\n${EXIT_STATUS_HELP}`;
}

/** `crtosctl VERB --help`, from the table alone. */
export function verbHelp(name: string, verb: Verb): string {
  const operands = verb.spec.USAGE ?? operandsUsage(verb.spec.OPERANDS);
  return `${verb.summary}.\n\n${optionsHelp(`${name} [OPTIONS...]${operands ? ` ${operands}` : ''}`, verb.spec.OPTIONS)}`;
}

/** Whether `option` (`--bus`, `-n`) reads the next word as its value, for any verb. */
function takesValue(option: string): boolean {
  const spellings = (s: OptionSpec): string[] => [`--${s.name}`, ...(s.alias ? [`--${s.alias}`] : []), ...(s.short ? [`-${s.short}`] : [])];
  return [...COMMON_OPTIONS, ...Object.values(VERBS).flatMap((v) => v.spec.OPTIONS)].some((s) => s.value === true && spellings(s).includes(option));
}

/** Whether the arguments ask for help (before any `--`). */
const asksHelp = (args: readonly string[]): boolean => {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

export async function main(argv: string[], io: Pick<CliContext, 'stdin' | 'stdout' | 'stderr' | 'env' | 'cwd'> & { isTTY: boolean }): Promise<number> {
  const [verbName, ...args] = hoistGlobalOptions(argv, takesValue);
  if (verbName === undefined || verbName === '--help' || verbName === '-h' || verbName === 'help') {
    (verbName === undefined ? io.stderr : io.stdout).write(usage());
    return EXIT_CODES[verbName === undefined ? 'usage' : 'ok'];
  }
  if (verbName === '--version') {
    io.stdout.write(`crtosctl ${process.env.CRTOS_VERSION ?? '0.1.0'}\n`);
    return EXIT_CODES.ok;
  }
  const verb = VERBS[verbName];
  if (!verb) {
    io.stderr.write(`crtosctl: unknown verb '${verbName}'\n\n${usage()}`);
    return EXIT_CODES.usage;
  }
  if (!verb.spec.OWN_HELP && asksHelp(args)) {
    io.stdout.write(verbHelp(verbName, verb));
    return EXIT_CODES.ok;
  }
  const color = io.isTTY && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb';
  const ctx: CliContext = { args, ...(io.stdin ? { stdin: io.stdin } : {}), stdout: io.stdout, stderr: io.stderr, env: io.env, cwd: io.cwd, color, utf8: localeIsUtf8(io.env) };
  try {
    const mod = await verb.load();
    return EXIT_CODES[await mod.run(ctx)];
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`crtosctl ${verbName}: ${e.message}\n`);
      return EXIT_CODES.usage;
    }
    if (isProblemError(e)) {
      io.stderr.write(renderProblems(e.problems, { color }));
      return EXIT_CODES.failed;
    }
    io.stderr.write(`crtosctl ${verbName}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_CODES.failed;
  }
}

// Run only as the bundled command, not when a test imports main().
if (process.argv[1] && /crtosctl(\.cjs)?$/.test(process.argv[1])) {
  main(process.argv.slice(2), { stdin: () => process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), isTTY: process.stdout.isTTY === true }).then(
    (code) => {
      process.exitCode = code;
    },
  );
}
