/** crtosd's command line: parsed into options, or problems naming the bad option and the fix. */
import { problem, type Problem } from '../errors/problem.js';
import { DEFAULT_UNIT_DIRECTORIES } from '../units/load.js';
import { LOG_FORMATS, type LogFormat } from './log/format.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface DaemonOptions {
  units: string[];
  root: string;
  stateDir: string;
  /** Persistent masks (src/engine/masks.ts), default /etc/crtos/mask; runtime ones are under the state directory. */
  maskDir?: string;
  bus?: string;
  adminGroup?: string;
  /** Where the Prometheus metrics are written for node_exporter's textfile collector; none: not written. */
  metricsFile?: string;
  logLevel: LogLevel;
  /** Where records go (src/daemon/log/format.ts); auto when not given. */
  logFormat?: LogFormat;
  once: boolean;
  stopOnExit: boolean;
  pollIntervalMs: number;
  /** Debounce of unit-directory changes. */
  watchDebounceMs: number;
  help: boolean;
}

export const USAGE = `Usage: crtosd [OPTIONS]

Keeps the machine equal to its crtos unit files (hypervisor, cells, images, drivers, networks, loaders).

  --units DIR          unit directory (repeatable, highest precedence first);
                       default ${DEFAULT_UNIT_DIRECTORIES.join(', ')}
  --root DIR           resolve every machine path under DIR (default /)
  --state-dir DIR      state file, loader logs and runtime masks (default /run/crtos)
  --mask-dir DIR       persistent masks (default /etc/crtos/mask, under --root)
  --bus system|ADDR    serve org.crtos.Manager1 on the system bus or at a D-Bus address
  --admin-group NAME   members of this group may change state over D-Bus (besides root)
  --metrics-file PATH  write Prometheus metrics there on every change, for node_exporter's
                       textfile collector (PATH in its --collector.textfile.directory, *.prom)
  --log-level LEVEL    trace, debug, info (default), warn, error, fatal, silent
  --log-format FORMAT  auto (default: the journal if its socket exists, else <N>-prefixed
                       stderr lines under systemd, else text on a terminal, else json),
                       journal, syslog, json, text
  --poll-interval MS   how often cell states are read from sysfs (default 2000)
  --once               reconcile once, print the result, exit non-zero if anything failed
  --stop-on-exit       on SIGTERM/SIGINT take every unit down in reverse order (default: leave them)
  -h, --help           this text
`;

export function parseArgs(argv: readonly string[]): { options?: DaemonOptions; problems: Problem[] } {
  const o: DaemonOptions = {
    units: [],
    root: '/',
    stateDir: '/run/crtos',
    logLevel: 'info',
    once: false,
    stopOnExit: false,
    // 32 cells polled every 2 s cost about 0.25 % of a core; a failed cell is noticed within 2 s.
    pollIntervalMs: 2000,
    watchDebounceMs: 100,
    help: false,
  };
  const problems: Problem[] = [];
  const bad = (message: string, hint?: string) => problems.push(problem('ENGINE_BAD_ARGUMENT', message, hint ? { hint } : {}));
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const name = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        bad(`${name} needs a value`, `write ${name} VALUE`);
        return undefined;
      }
      i++;
      return next;
    };
    switch (name) {
      case '--units': {
        const v = value();
        if (v !== undefined) o.units.push(v);
        break;
      }
      case '--root': {
        const v = value();
        if (v !== undefined) o.root = v;
        break;
      }
      case '--state-dir': {
        const v = value();
        if (v !== undefined) o.stateDir = v;
        break;
      }
      case '--mask-dir': {
        const v = value();
        if (v !== undefined) o.maskDir = v;
        break;
      }
      case '--bus': {
        const v = value();
        if (v !== undefined) o.bus = v;
        break;
      }
      case '--admin-group': {
        const v = value();
        if (v !== undefined) o.adminGroup = v;
        break;
      }
      case '--metrics-file': {
        const v = value();
        if (v !== undefined) o.metricsFile = v;
        break;
      }
      case '--log-level': {
        const v = value();
        if (v === undefined) break;
        if (LEVELS.includes(v as LogLevel)) o.logLevel = v as LogLevel;
        else bad(`unknown log level '${v}'`, `use one of ${LEVELS.join(', ')}`);
        break;
      }
      case '--log-format': {
        const v = value();
        if (v === undefined) break;
        if ((LOG_FORMATS as readonly string[]).includes(v)) o.logFormat = v as LogFormat;
        else bad(`unknown log format '${v}'`, `use one of ${LOG_FORMATS.join(', ')}`);
        break;
      }
      case '--poll-interval': {
        const v = value();
        if (v === undefined) break;
        const n = Number(v);
        if (Number.isInteger(n) && n >= 0) o.pollIntervalMs = n;
        else bad(`--poll-interval must be a whole number of milliseconds, not '${v}'`);
        break;
      }
      case '--once':
        o.once = true;
        break;
      case '--stop-on-exit':
        o.stopOnExit = true;
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        bad(`unknown option '${raw}'`, 'see crtosd --help');
    }
  }
  if (o.units.length === 0) o.units = [...DEFAULT_UNIT_DIRECTORIES];
  return problems.length ? { problems } : { options: o, problems };
}
