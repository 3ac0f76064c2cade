/**
 * Loader: a Linux process that serves a cell, like the cRTOS loader that pushes an ELF into the
 * real-time cell and stays resident as its system-call proxy. Started detached so it outlives a
 * daemon restart; supervised by its health-monitor table (`health`, over what its `restart:` policy
 * says, systemd's Restart= semantics), an optional liveness check and a start limit.
 */
import { z } from 'zod';
import { commonFields, defineKind, COMMON_CHANGES, startLimit, startLimitDefault } from '../spec-common.js';
import { cpuList, duration, machinePath, size } from '../../units/scalars.js';
import { healthSchema, livenessSchema } from '../../engine/health/schema.js';
import { resolveTable, type DeclaredHealth, type HealthAction, type HealthEvent, type HealthTable } from '../../engine/health/table.js';

export const schedulingSchema = z
  .strictObject({
    policy: z.enum(['other', 'fifo', 'rr', 'batch', 'idle']).meta({ description: 'Scheduling policy (chrt): fifo and rr are real-time.' }),
    priority: z.number().int().min(0).max(99).default(0).meta({ description: 'Real-time priority 1-99 (0 for other/batch/idle).' }),
  })
  .refine((s) => (s.policy === 'fifo' || s.policy === 'rr' ? s.priority >= 1 : s.priority === 0), {
    message: 'fifo and rr need a priority from 1 to 99; other, batch and idle take priority 0',
    path: ['priority'],
  })
  .meta({ description: 'Scheduling policy and priority, as `chrt`.' });

/** A user or group: a name, or a numeric id (as a number or a string of digits). */
const account = (what: 'user' | 'group') =>
  z
    .union([
      z.number().int().min(0).max(4294967294),
      z.string().regex(/^([A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|\d{1,10})$/, { message: `must be a ${what} name or a numeric id` }),
    ])
    .transform(String);

const INFINITY = z.literal('infinity').meta({ description: 'No limit.' });
const sizeLimit = (description: string) => z.union([INFINITY, size]).meta({ description: `${description} A size ("64M", bytes as a number) or "infinity".` });

export const limitsSchema = z
  .strictObject({
    memlock: sizeLimit('RLIMIT_MEMLOCK: memory the process may lock with mlock(2) (real-time processes lock all of theirs).'),
    rtprio: z
      .union([INFINITY, z.number().int().min(0).max(99)])
      .meta({ description: 'RLIMIT_RTPRIO: the highest real-time priority (0-99) the process may give itself without privileges, or "infinity".' }),
    nofile: z
      .union([INFINITY, z.number().int().min(0)])
      .meta({ description: 'RLIMIT_NOFILE: open file descriptors; "infinity" is the kernel\'s ceiling (fs.nr_open).' }),
    core: sizeLimit('RLIMIT_CORE: size of a core dump (0: none).'),
  })
  .partial()
  .meta({ description: 'Resource limits of the process (setrlimit(2)), each set as soft and hard limit, as systemd\'s LimitMEMLOCK= and the like.' });

/** The events a loader raises, for its `health.on`: failed is an exit with a non-zero code or by a signal, exited a clean one. */
export const LOADER_HEALTH_EVENTS: readonly HealthEvent[] = ['failed', 'liveness', 'startFailed', 'exited'];

const loaderHealthSchema = healthSchema({ kind: 'Loader', events: LOADER_HEALTH_EVENTS, cannot: { 'stop-hypervisor': 'it runs on no hypervisor of its own' } });

export const loaderSchema = z
  .strictObject({
    kind: z.literal('Loader'),
    ...commonFields,
    exec: z
      .tuple([machinePath], z.string())
      .meta({ description: 'The command: an absolute program path, then its arguments (no shell).' }),
    environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number()]).transform(String)).default({}).meta({
      description: 'Environment variables of the process; besides these it gets only PATH and INVOCATION_ID.',
    }),
    workingDirectory: machinePath.optional().meta({ description: 'Working directory (default /; resolved under --root, like exec).' }),
    user: account('user').optional().meta({
      description: 'Run as this user (a name or a numeric id; default root). Its primary group and supplementary groups apply unless `group` is given; a numeric id without a passwd entry needs `group`.',
    }),
    group: account('group').optional().meta({ description: 'Run with this group (a name or a numeric id; default the user\'s primary group).' }),
    limits: limitsSchema.optional(),
    scheduling: schedulingSchema.optional(),
    cpus: cpuList.optional().meta({ description: 'CPU affinity (taskset), e.g. "0-2".' }),
    restart: z
      .enum(['no', 'on-failure', 'always'])
      .default('no')
      .meta({ description: 'Restart when the process exits: never, after a failure (non-zero exit, signal), or always. It decides the events `health.on` does not name.' }),
    liveness: livenessSchema.optional(),
    health: loaderHealthSchema.optional(),
    restartSec: duration.prefault(0.1).meta({ description: 'Delay before the first restart (default 100ms); doubles up to restartMaxSec.' }),
    restartMaxSec: duration.prefault(30).meta({ description: 'Longest delay between restarts (default 30s).' }),
    startLimit: startLimit.default(startLimitDefault),
    stopSignal: z.enum(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGKILL']).default('SIGTERM').meta({
      description: 'Signal that asks the process to stop (default SIGTERM; SIGKILL follows after stopTimeout).',
    }),
    stopTimeout: duration.prefault(10).meta({ description: 'How long to wait after stopSignal before SIGKILL (default 10s).' }),
  })
  .meta({ title: 'Loader', description: 'A supervised Linux process serving a cell (the cRTOS loader and proxy).' });

export type LoaderSpec = z.output<typeof loaderSchema>;

export const loaderDefinition = defineKind({
  kind: 'Loader',
  summary: 'A supervised Linux process serving a cell',
  schema: loaderSchema,
  references: () => [],
  files: (l) => [{ field: 'exec.0', path: l.exec[0] }, ...(l.liveness?.exec ? [{ field: 'liveness.exec.0', path: l.liveness.exec[0] }] : [])],
  // A device node handed in the environment (/dev/uio0) must be there when the loader starts.
  deviceNodes: (l) => Object.entries(l.environment).flatMap(([name, value]) => (value.startsWith('/dev/') ? [{ field: `environment.${name}`, path: value }] : [])),
  changes: {
    ...COMMON_CHANGES,
    exec: 'restart',
    environment: 'restart',
    workingDirectory: 'restart',
    user: 'restart',
    group: 'restart',
    limits: 'restart',
    scheduling: 'restart',
    cpus: 'restart',
    restart: 'none',
    restartSec: 'none',
    restartMaxSec: 'none',
    startLimit: 'none',
    stopSignal: 'none',
    stopTimeout: 'none',
    liveness: 'none',
    health: 'none',
  },
});

/**
 * The loader's health-monitor table: `health` over what `restart` says for the events it does not
 * name, as systemd's Restart= (clean: exit 0, SIGHUP, SIGINT, SIGTERM, SIGPIPE). A failed liveness
 * check is taken as the process failing.
 */
export function loaderHealthTable(spec: LoaderSpec): HealthTable {
  const legacy = `restart: ${spec.restart}`;
  const again = (yes: boolean): { action: HealthAction; legacy: string } => ({ action: yes ? 'restart' : 'log', legacy });
  return resolveTable(spec.health as DeclaredHealth | undefined, {
    failed: again(spec.restart !== 'no'),
    liveness: again(spec.restart !== 'no'),
    startFailed: again(spec.restart !== 'no'),
    exited: again(spec.restart === 'always'),
  });
}
