/**
 * The operations inside a unit's jobs, timed in µs for `crtosctl analyze plot`: every Host action
 * a kind's start, reload or stop performs (a tool run, a file installed, an attribute written, a
 * process spawned, readiness probes) is recorded with its start and end, the unit and the job.
 *
 * The job runner hands each kind a host wrapped by recordingHost(), so neither the kinds nor the
 * backends know about it: what they do through the Host is what the timeline shows. A unit keeps
 * the operations of its last start or reload job (its last bring-up); a stop's are not kept.
 */
import { basename } from 'node:path';
import type { Host, ToolCall, ToolRun } from '../host/host.js';
import type { JobInfo, TimelineOperation } from './manager-api.js';
import type { UnitRuntime } from './status.js';
import { now } from './clock.js';

/** The Host's actions (and the tool run `interfaces`): what changes the machine or waits on it. */
const ACTIONS = [
  'installFile',
  'writeAttribute',
  'loadModule',
  'unloadModule',
  'enableJailhouse',
  'disableJailhouse',
  'createCell',
  'loadCell',
  'startCell',
  'shutdownCell',
  'destroyCell',
  'addAddress',
  'removeAddress',
  'setLinkUp',
  'interfaces',
  'spawn',
  'kill',
  'killGroup',
  'probeTcp',
] as const satisfies readonly (keyof Host)[];
const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);

/** Operations a unit keeps of one job: a loader restarting in a loop must not grow its history. */
export const MAX_OPERATIONS_PER_UNIT = 64;
/** A detail longer than this is cut (an argv of many image files). */
const MAX_DETAIL = 120;

/** Where an operation of one unit is recorded: its runtime, if a start or reload job runs on it. */
export type OperationSink = (unit: string) => UnitRuntime | undefined;

/** A bring-up begins: the unit's operations are those of this job from now on. */
export function beginBringUp(rt: UnitRuntime, job: JobInfo): void {
  if (job.type !== 'stop') rt.operations = [];
}

/**
 * `host` with every action of `unit` recorded into the runtime `sink` returns for it, while that
 * runtime has a start or reload job. Reads pass through untouched.
 */
export function recordingHost(host: Host, unit: string, sink: OperationSink): Host {
  return new Proxy(host, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !ACTION_SET.has(prop) || typeof value !== 'function') {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      return (...args: unknown[]) => {
        const op = begin(sink(unit), unit, prop, args);
        if (!op) return (value as (...a: unknown[]) => unknown).apply(target, args);
        const call = args.findIndex(isToolCall);
        if (call >= 0) args[call] = teeRuns(args[call] as ToolCall, (run) => (op.detail = summarize(run.argv, true)));
        const settle = (result: TimelineOperation['result']) => {
          op.end = now().monotonic;
          op.result = result;
        };
        try {
          const p = Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args));
          p.then(
            () => settle('done'),
            () => settle('failed'),
          );
          return p;
        } catch (e) {
          settle('failed');
          throw e;
        }
      };
    },
  });
}

function begin(rt: UnitRuntime | undefined, unit: string, operation: string, args: readonly unknown[]): TimelineOperation | undefined {
  const job = rt?.job;
  if (!rt || !job || job.type === 'stop') return undefined;
  const detail = summarize(args.filter((a) => !isToolCall(a)).map(describeArg));
  const t = now().monotonic;
  const last = rt.operations.at(-1);
  // Readiness is polled: a run of probes of one endpoint is one operation, from the first to the last.
  if (operation === 'probeTcp' && last && last.operation === operation && last.detail === detail && last.job === job.id) {
    last.result = 'running';
    last.end = 0;
    return last;
  }
  const op: TimelineOperation = { unit, job: job.id, jobType: job.type, operation, detail, start: t, end: 0, result: 'running' };
  if (rt.operations.length >= MAX_OPERATIONS_PER_UNIT) rt.operations.splice(0, rt.operations.length - MAX_OPERATIONS_PER_UNIT + 1);
  rt.operations.push(op);
  return op;
}

function isToolCall(a: unknown): a is ToolCall {
  return typeof a === 'object' && a !== null && !Array.isArray(a) && !(a instanceof Uint8Array) && ('signal' in a || 'runs' in a);
}

/** The call with its observer told first of each tool process that starts. */
function teeRuns(call: ToolCall, started: (run: ToolRun) => void): ToolCall {
  const runs = call.runs;
  return {
    ...call,
    runs: {
      ...(runs?.spawning ? { spawning: runs.spawning.bind(runs) } : {}),
      started: (run) => {
        started(run);
        runs?.started(run);
      },
      ended: (run) => runs?.ended(run),
    },
  };
}

/** An argument as a word of the detail: a path, a module's name, a command line, a byte count. */
function describeArg(a: unknown): string {
  if (typeof a === 'string' || typeof a === 'number') return String(a);
  if (a instanceof Uint8Array) return `(${a.length} bytes)`;
  if (Array.isArray(a)) return a.map(describeArg).join(' ');
  if (a && typeof a === 'object') {
    const o = a as Record<string, unknown>;
    for (const key of ['argv', 'path', 'name', 'image']) if (o[key] !== undefined) return describeArg(o[key]);
  }
  return '';
}

/** Words as one short line, a command line's program by its base name, cut at MAX_DETAIL characters. */
export function summarize(words: readonly string[], commandLine = false): string {
  const [first = '', ...rest] = words.filter((w) => w !== '');
  const text = [commandLine ? basename(first) : first, ...rest].join(' ');
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}…` : text;
}

/** Every unit's last bring-up, by start time (copies: a running operation goes on changing). */
export function timelineOf(runtimes: Iterable<UnitRuntime>): TimelineOperation[] {
  return [...runtimes].flatMap((rt) => rt.operations.map((o) => ({ ...o }))).sort((a, b) => a.start - b.start);
}
