/**
 * The unit-file fields of the health monitor, shared by the kinds that have one (Cell, Loader):
 * `liveness:` (a periodic check, kubelet style) and `health:` (the event → level table). Each kind
 * builds its `health:` schema with the events it raises and the actions it can take, so what it
 * cannot do (a Loader stopping a hypervisor) is refused where it is written, like every other
 * unit-file error (file, line, column; `crtosctl validate`).
 */
import { z } from 'zod';
import { address, duration, machinePath, tcpEndpoint } from '../../units/scalars.js';
import { didYouMean } from '../../units/did-you-mean.js';
import { escalationCycles, HEALTH_ACTIONS, isHealthAction, type HealthAction, type HealthEvent } from './table.js';

/** A duration that must be more than 0, saying what it is for. */
const positive = (what: string) => duration.refine((ms) => ms > 0, { message: `must be more than 0 (${what})` });

export const livenessSchema = z
  .strictObject({
    tcp: tcpEndpoint.optional().meta({ description: 'Healthy while a TCP connection to host:port is accepted.' }),
    exec: z
      .tuple([machinePath], z.string())
      .optional()
      .meta({ description: 'Healthy while this command (an absolute program path, then its arguments; no shell) exits 0 within timeout.' }),
    heartbeat: z
      .strictObject({
        file: machinePath.meta({ description: 'A file or sysfs attribute (a counter the firmware writes) read whole each period, or with offset a word of it (/dev/mem: shared memory).' }),
        offset: address.optional().meta({ description: 'Read only `size` bytes at this offset (in /dev/mem: the physical address of a word the RTOS updates, such as its ivshmem state).' }),
        size: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]).default(4).meta({ description: 'Bytes read at offset (default 4).' }),
      })
      .optional()
      .meta({ description: 'Healthy while the file changes: unchanged for failureThreshold periods is a failure.' }),
    period: positive('the time between checks').prefault(1).meta({ description: 'Time between checks (default 1s).' }),
    timeout: positive('how long one check may take').prefault(1).meta({ description: 'How long one check may take (default 1s); an exec check is killed with its process group then.' }),
    failureThreshold: z.number().int().min(1).default(3).meta({ description: 'Consecutive failed checks that make the liveness event (default 3).' }),
    initialDelay: duration.prefault(0).meta({ description: 'Time after the unit became active before the first check (default 0s).' }),
  })
  .superRefine((l, ctx) => {
    const probes = (['tcp', 'exec', 'heartbeat'] as const).filter((p) => l[p] !== undefined);
    if (probes.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a liveness check takes exactly one of tcp, exec or heartbeat${probes.length ? `, not ${probes.join(' and ')}` : ''}; write e.g. tcp: "172.16.0.2:42"`,
      });
    }
  })
  .meta({ description: 'A periodic check while the unit is active; failureThreshold failures in a row raise the liveness event of `health`.' });

export type LivenessSpec = z.output<typeof livenessSchema>;

/** What each event means, for the JSON Schema and the hints. */
const EVENT_DOCS: Record<HealthEvent, string> = {
  failed: 'The unit failed while it ran (a cell entered `failed`, a loader crashed).',
  liveness: 'Its liveness check failed failureThreshold times in a row.',
  startFailed: 'A start failed.',
  readyTimeout: 'Its `ready:` probe was not answered within ready.timeout.',
  exited: 'Its main process exited cleanly.',
  recovered: 'Its hypervisor brought it back by itself after a crash (remoteproc, recovery enabled); by default only counted and logged.',
};

/** Levels are named like identifiers, never like an action (an event or `then` may name an action directly). */
const LEVEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const levelSchema = z
  .strictObject({
    action: z.enum(HEALTH_ACTIONS).meta({ description: 'What the level does.' }),
    limit: z.number().int().min(1).optional().meta({ description: 'After this many actions within window, the next event goes to then.' }),
    window: duration.optional().meta({ description: 'The window the limit is counted in.' }),
    then: z.string().optional().meta({ description: 'The level (or an action) that handles the events after the limit.' }),
  })
  .meta({ description: 'A level: an action and, optionally, its escalation (limit, window and then together).' });

export interface HealthSchemaOptions {
  /** The kind, for messages (`a Loader cannot …`). */
  kind: string;
  events: readonly HealthEvent[];
  /** The actions it cannot take, each with why (shown in the error). */
  cannot: Partial<Record<HealthAction, string>>;
}

/** The `health:` field of a kind: `on` (event → level or action) and `levels`, checked together. */
export function healthSchema(opts: HealthSchemaOptions) {
  const on = z
    .strictObject(Object.fromEntries(opts.events.map((e) => [e, z.string().optional().meta({ description: EVENT_DOCS[e] })])) as Record<HealthEvent, z.ZodOptional<z.ZodString>>)
    .meta({ description: 'Event → the level that handles it (or an action).' });
  return z
    .strictObject({
      on: on.default({}),
      levels: z.record(z.string().regex(LEVEL_NAME), levelSchema).default({}).meta({ description: 'Named levels, so the escalation reads: recover, cold, isolate.' }),
    })
    .superRefine((h, ctx) => checkTable(h as TableInput, opts, ctx))
    .meta({ description: 'The health-monitor table: which level handles each event, and how levels escalate.' });
}

interface TableInput {
  on: Partial<Record<HealthEvent, string>>;
  levels: Record<string, z.output<typeof levelSchema>>;
}

type Ctx = z.core.$RefinementCtx<unknown>;

function checkTable(h: TableInput, opts: HealthSchemaOptions, ctx: Ctx): void {
  const names = Object.keys(h.levels);
  const known = `levels: ${names.length ? names.join(', ') : 'none'}; actions: ${HEALTH_ACTIONS.filter((a) => opts.cannot[a] === undefined).join(', ')}`;
  /** A name where a level is expected: a level, or an action the kind can take. */
  const checkTarget = (name: string, path: (string | number)[]): void => {
    if (h.levels[name] !== undefined) return;
    if (isHealthAction(name)) {
      checkAction(name, path);
      return;
    }
    const guess = didYouMean(name, [...names, ...HEALTH_ACTIONS]);
    ctx.addIssue({ code: 'custom', path, message: `'${name}' is neither a level of health.levels nor an action${guess ? `; ${guess}` : ''} (${known})` });
  };
  const checkAction = (action: HealthAction, path: (string | number)[]): void => {
    const why = opts.cannot[action];
    if (why !== undefined) ctx.addIssue({ code: 'custom', path, message: `'${action}': a ${opts.kind} cannot do that (${why}); use stop or stop-dependents` });
  };
  for (const [event, name] of Object.entries(h.on)) if (name !== undefined) checkTarget(name, ['on', event]);
  for (const [name, level] of Object.entries(h.levels)) {
    if (isHealthAction(name)) {
      ctx.addIssue({ code: 'custom', path: ['levels', name], message: `'${name}' is an action, so it cannot name a level: name levels by what they are for (recover, cold, isolate) and put the action in \`action\`` });
    }
    checkAction(level.action, ['levels', name, 'action']);
    const given = (['limit', 'window', 'then'] as const).filter((f) => level[f] !== undefined);
    if (given.length > 0 && given.length < 3) {
      const missing = (['limit', 'window', 'then'] as const).filter((f) => level[f] === undefined);
      ctx.addIssue({
        code: 'custom',
        path: ['levels', name],
        message: `level ${name} escalates with limit, window and then together; add ${missing.join(' and ')} (e.g. limit: 3, window: 60s, then: stop)`,
      });
    }
    if (level.then !== undefined) checkTarget(level.then, ['levels', name, 'then']);
  }
  for (const cycle of escalationCycles(h.levels)) {
    const closing = cycle[cycle.length - 2]!;
    ctx.addIssue({
      code: 'custom',
      path: ['levels', closing, 'then'],
      message: `levels ${cycle.join(' → ')} escalate in a circle, which never ends; end the chain at a level without limit (e.g. then: stop)`,
    });
  }
}
