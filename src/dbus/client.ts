/**
 * The client crtosctl uses: typed calls on crtosd's D-Bus API, returning the engine's own shapes
 * (UnitStatus, DaemonStatus…) so the CLI formats the same data the daemon has. Bus errors become
 * Problems with API_ codes, phrased for the person at the terminal. It speaks D-Bus through the
 * small wire/ connection, not dbus-next, to keep crtosctl's start-up short.
 */
import { WireConnection, WireError } from './wire/connection.js';
import type { WireMessage } from './wire/marshal.js';
import type { DaemonStatus, JobInfo, JobResult, JobType, LogLine, PlannedStep, ReloadOutcome, TimelineOperation, TransitionTimes, UnitDetails, UnitStatus, UnitTimestamps } from '../engine/manager-api.js';
import { TIMESTAMP_FIELDS } from './schema.js';
import type { KindName } from '../kinds/spec-common.js';
import type { KillWhom, MaskChange } from '../engine/operator-api.js';
import type { PropertyType } from '../kinds/view.js';
import { findView, kindOfUnitId, viewOf } from '../kinds/views.js';
import { ProblemError, problem, type Problem } from '../errors/problem.js';
import type { BusErrorContext, CodeInfo, ProblemCode } from '../errors/codes.js';
import { apiCodes } from '../errors/codes/api.js';
import { decodeProblem } from './problem-decode.js';
import { BUS_NAME, MANAGER_IFACE, MANAGER_PATH, PROPERTIES_IFACE, UNIT_IFACE } from './names.js';
import { resolveBusAddress } from './bus-address.js';
import { unitObjectPath } from './object-path.js';

export { resolveBusAddress };

/** One row of ListUnits. */
export interface UnitListEntry {
  id: string;
  description: string;
  loadState: string;
  activeState: string;
  subState: string;
  path: string;
  jobId: number;
  jobType: string;
  jobPath: string;
}

export interface JobOutcome {
  unit: string;
  type: JobType;
  jobId: number;
  result: JobResult;
}

type Dict = Record<string, unknown>;

const plain = (v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v);
const str = (d: Dict, k: string): string => String(plain(d[k]) ?? '');
const num = (d: Dict, k: string): number => Number(plain(d[k]) ?? 0);
const strs = (d: Dict, k: string): string[] => ((plain(d[k]) as unknown[] | undefined) ?? []).map(String);
const nums = (d: Dict, k: string): number[] => ((plain(d[k]) as unknown[] | undefined) ?? []).map(Number);

/** A property value from the bus as its kind's view declares it, in the engine's form. */
function decodeKindValue(type: PropertyType, d: Dict, name: string): unknown {
  switch (type) {
    case 's':
      return str(d, name);
    case 'b':
      return plain(d[name]) === true;
    case 'i':
    case 'u':
    case 't':
      return num(d, name);
    case 'as':
      return strs(d, name);
    case 'au':
      return nums(d, name);
    case 'a{ss}':
      return { ...((plain(d[name]) as Record<string, string> | undefined) ?? {}) };
    case 'a{su}':
      return Object.fromEntries(Object.entries((plain(d[name]) as Record<string, unknown> | undefined) ?? {}).map(([k, n]) => [k, Number(plain(n))]));
  }
}

/**
 * The details of a unit from the GetAll dict of its kind interface, read by the kind's view; only
 * `kind` for a kind this crtosctl does not know (a newer crtosd's).
 */
function decodeDetails(kind: KindName, d: Dict): UnitDetails {
  const view = findView(kind);
  if (!view) return { kind };
  const details: UnitDetails = { kind, ...structuredClone(view.empty) };
  // A property the daemon did not send (its details lack the field) is not made up here either.
  for (const p of view.properties) if (p.name in d) details[p.field] = decodeKindValue(p.type, d, p.name);
  return details;
}

function decodeTimestamps(u: Dict): UnitTimestamps {
  const realtime = {} as TransitionTimes;
  const monotonic = {} as TransitionTimes;
  for (const [name, field] of Object.entries(TIMESTAMP_FIELDS)) {
    realtime[field] = num(u, name);
    monotonic[field] = num(u, `${name}Monotonic`);
  }
  return { ...realtime, monotonic };
}

function decodeLogLines(rows: unknown): LogLine[] {
  return ((rows ?? []) as unknown[][]).map((r) => {
    const line: LogLine = { time: Number(r[0]), level: String(r[1]) as LogLine['level'], message: String(r[3]) };
    if (r[2]) line.unit = String(r[2]);
    return line;
  });
}

/** A unit's status from the GetAll dicts of org.crtos.Unit1 and its kind interface. */
export function decodeUnitStatus(u: Dict, kindProps: Dict): UnitStatus {
  const kind = str(u, 'Kind') as KindName;
  const job = plain(u.Job) as [number, string] | undefined;
  const lastError = decodeProblem((plain(u.LastError) as Dict | undefined) ?? {});
  const status: UnitStatus = {
    id: str(u, 'Id'),
    kind,
    description: str(u, 'Description'),
    loadState: str(u, 'LoadState') as UnitStatus['loadState'],
    activeState: str(u, 'ActiveState') as UnitStatus['activeState'],
    subState: str(u, 'SubState'),
    result: str(u, 'Result') as UnitStatus['result'],
    timestamps: decodeTimestamps(u),
    sourcePath: str(u, 'SourcePath'),
    dropInPaths: strs(u, 'DropInPaths'),
    requires: strs(u, 'Requires'),
    wants: strs(u, 'Wants'),
    after: strs(u, 'After'),
    before: strs(u, 'Before'),
    requiredBy: strs(u, 'RequiredBy'),
    wantedBy: strs(u, 'WantedBy'),
    details: decodeDetails(kind, kindProps),
  };
  if (lastError) status.lastError = lastError;
  const pending = str(u, 'PendingChange');
  if (pending) status.pendingChange = pending;
  const condition = str(u, 'ConditionText');
  if (condition) status.condition = condition;
  if (job && Number(job[0]) > 0) status.job = { id: Number(job[0]), unit: status.id, type: 'start', state: 'waiting' };
  return status;
}

function decodeOutcome(body: unknown[]): ReloadOutcome {
  const [ok, problems, steps] = body as [boolean, Dict[], [string, string, string][]];
  return {
    ok: ok === true,
    problems: (problems ?? []).map((p) => decodeProblem(p)).filter((p): p is Problem => p !== undefined),
    steps: (steps ?? []).map(([unit, action, reason]) => ({ unit, action: action as PlannedStep['action'], reason })),
  };
}

export class CrtosClient {
  private readonly jobResults = new Map<string, JobResult>();
  private readonly jobWaiters = new Map<string, { done: (r: JobResult) => void; gone: (e: Error) => void }>();
  private watchingJobs = false;
  /** Set while crtosd is off the bus (since its name lost its owner). */
  private daemonGone: ProblemError | undefined;

  private constructor(
    private readonly bus: WireConnection,
    readonly address: string,
  ) {}

  /** `requested`: --bus value; undefined = CRTOS_BUS_ADDRESS or the system bus. */
  static async connect(requested?: string, env: NodeJS.ProcessEnv = process.env): Promise<CrtosClient> {
    const address = resolveBusAddress(requested, env);
    try {
      // Not waiting for the connection: the first calls travel with the authentication.
      return new CrtosClient(WireConnection.start(address), address);
    } catch (e) {
      throw unreachable(address, e);
    }
  }

  close(): void {
    this.bus.close();
  }

  private async call(path: string, iface: string, member: string, signature = '', body: unknown[] = []): Promise<unknown[]> {
    try {
      return await this.bus.call({ destination: BUS_NAME, path, interface: iface, member, signature, body });
    } catch (e) {
      throw this.translate(e, member);
    }
  }

  private translate(e: unknown, member: string): ProblemError {
    if (!(e instanceof WireError)) return unreachable(this.address, e);
    return new ProblemError(problemOfBusError({ member, error: e.type, text: e.text, address: this.address }));
  }

  private async getAll(path: string, iface: string): Promise<Dict> {
    const [dict] = await this.call(path, PROPERTIES_IFACE, 'GetAll', 's', [iface]);
    return (dict ?? {}) as Dict;
  }

  async daemon(): Promise<DaemonStatus & { nUnits: number; nJobs: number }> {
    const d = await this.getAll(MANAGER_PATH, MANAGER_IFACE);
    return {
      version: str(d, 'Version'),
      systemState: str(d, 'SystemState') as DaemonStatus['systemState'],
      unitDirectories: strs(d, 'UnitDirectories'),
      lastLoadErrors: ((plain(d.LastLoadErrors) as Dict[] | undefined) ?? []).map((p) => decodeProblem(p)).filter((p): p is Problem => p !== undefined),
      lastReconcile: num(d, 'LastReconcileTimestamp'),
      nUnits: num(d, 'NUnits'),
      nJobs: num(d, 'NJobs'),
    };
  }

  async listUnits(): Promise<UnitListEntry[]> {
    const [rows] = await this.call(MANAGER_PATH, MANAGER_IFACE, 'ListUnits');
    return ((rows ?? []) as unknown[][]).map((r) => ({
      id: String(r[0]),
      description: String(r[1]),
      loadState: String(r[2]),
      activeState: String(r[3]),
      subState: String(r[4]),
      path: String(r[6]),
      jobId: Number(r[7]),
      jobType: String(r[8]),
      jobPath: String(r[9]),
    }));
  }

  async listJobs(): Promise<JobInfo[]> {
    const [rows] = await this.call(MANAGER_PATH, MANAGER_IFACE, 'ListJobs');
    return ((rows ?? []) as unknown[][]).map((r) => ({ id: Number(r[0]), unit: String(r[1]), type: String(r[2]) as JobType, state: String(r[3]) as JobInfo['state'] }));
  }

  /** The unit's object path, or undefined when crtosd has no such unit. */
  async unitPath(id: string): Promise<string | undefined> {
    try {
      const [path] = await this.call(MANAGER_PATH, MANAGER_IFACE, 'GetUnit', 's', [id]);
      return String(path);
    } catch (e) {
      if (e instanceof ProblemError && e.problems[0]?.code === 'API_NO_SUCH_UNIT') return undefined;
      throw e;
    }
  }

  async unit(id: string): Promise<UnitStatus | undefined> {
    // The path and the kind follow from the id, so both interfaces are read in one round trip;
    // an unknown unit is an unknown object.
    const kind = kindOfUnitId(id);
    if (!kind) return undefined;
    const path = unitObjectPath(id);
    let u: Dict;
    let k: Dict;
    try {
      [u, k] = await Promise.all([this.getAll(path, UNIT_IFACE), this.getAll(path, viewOf(kind).iface)]);
    } catch (e) {
      if (e instanceof ProblemError && e.problems[0]?.code === 'API_NO_SUCH_UNIT') return undefined;
      throw e;
    }
    const status = decodeUnitStatus(u, k);
    // Unit1.Job carries only the id; the job's type and state come from ListJobs.
    if (status.job) {
      const job = (await this.listJobs()).find((j) => j.id === status.job?.id);
      if (job) status.job = job;
    }
    return status;
  }

  /** Properties of one interface of a unit (or of the manager when id is undefined), as plain values. */
  async properties(id: string | undefined): Promise<Record<string, unknown> | undefined> {
    if (id === undefined) {
      const d = await this.getAll(MANAGER_PATH, MANAGER_IFACE);
      return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, plain(v)]));
    }
    const path = await this.unitPath(id);
    if (!path) return undefined;
    const all = await this.getAll(path, '');
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, deepPlain(v)]));
  }

  async unitLog(id: string, lines: number): Promise<LogLine[]> {
    const [rows] = await this.call(MANAGER_PATH, MANAGER_IFACE, 'GetUnitLog', 'su', [id, lines]);
    return decodeLogLines(rows);
  }

  /** The units' log lines (none named: every unit's and the daemon-wide ones) from `since` (µs) on, the last `lines` (0: all), by time. */
  async log(units: readonly string[], since: number, lines: number): Promise<LogLine[]> {
    const [rows] = await this.call(MANAGER_PATH, MANAGER_IFACE, 'GetLog', 'astu', [[...units], BigInt(Math.max(0, Math.trunc(since))), lines]);
    return decodeLogLines(rows);
  }

  /** The operations of each unit's last bring-up (GetTimeline), by start time. */
  async timeline(): Promise<TimelineOperation[]> {
    const [rows] = await this.call(MANAGER_PATH, MANAGER_IFACE, 'GetTimeline');
    return ((rows ?? []) as unknown[][]).map((r) => ({
      unit: String(r[0]),
      job: Number(r[1]),
      jobType: String(r[2]) as JobType,
      operation: String(r[3]),
      detail: String(r[4]),
      start: Number(r[5]),
      end: Number(r[6]),
      result: String(r[7]) as TimelineOperation['result'],
    }));
  }

  async reload(): Promise<ReloadOutcome> {
    return decodeOutcome(await this.call(MANAGER_PATH, MANAGER_IFACE, 'Reload'));
  }

  async planReload(): Promise<ReloadOutcome> {
    return decodeOutcome(await this.call(MANAGER_PATH, MANAGER_IFACE, 'PlanReload'));
  }

  /** The metrics in Prometheus's text format, as crtosd's metrics file holds them. */
  async metrics(): Promise<string> {
    const [text] = await this.call(MANAGER_PATH, MANAGER_IFACE, 'Metrics');
    return String(text);
  }

  /** systemd's ResetFailed (every unit) or ResetFailedUnit. */
  async resetFailed(id?: string): Promise<void> {
    if (id === undefined) await this.call(MANAGER_PATH, MANAGER_IFACE, 'ResetFailed');
    else await this.call(MANAGER_PATH, MANAGER_IFACE, 'ResetFailedUnit', 's', [id]);
  }

  async kill(id: string, whom: KillWhom, signal: number): Promise<void> {
    await this.call(MANAGER_PATH, MANAGER_IFACE, 'KillUnit', 'ssi', [id, whom, signal]);
  }

  /** MaskUnitFiles / UnmaskUnitFiles: the files made or removed. */
  async mask(ids: readonly string[], runtime: boolean, unmask = false): Promise<MaskChange[]> {
    const [rows] = unmask
      ? await this.call(MANAGER_PATH, MANAGER_IFACE, 'UnmaskUnitFiles', 'asb', [ids, runtime])
      : await this.call(MANAGER_PATH, MANAGER_IFACE, 'MaskUnitFiles', 'asbb', [ids, runtime, false]);
    return ((rows ?? []) as unknown[][]).map((r) => ({ type: String(r[0]) as MaskChange['type'], file: String(r[1]), destination: String(r[2]) }));
  }

  /** Subscribes to JobRemoved before any job is queued, so a fast job's end is never missed. */
  private async watchJobs(): Promise<void> {
    if (this.watchingJobs) return;
    this.watchingJobs = true;
    this.bus.on('signal', (msg: WireMessage) => {
      if (msg.interface === MANAGER_IFACE && msg.member === 'JobRemoved') {
        const [, jobPath, , result] = msg.body as [number, string, string, JobResult];
        const waiter = this.jobWaiters.get(jobPath);
        if (waiter) {
          this.jobWaiters.delete(jobPath);
          waiter.done(result);
        } else this.jobResults.set(jobPath, result);
      } else if (msg.member === 'NameOwnerChanged' && msg.body[0] === BUS_NAME) {
        if (msg.body[2] !== '') {
          this.daemonGone = undefined;
          return;
        }
        // crtosd left the bus: no JobRemoved will come, also for a job whose path is still on its
        // way to its waiter (crtosd may answer and leave at once).
        this.daemonGone = new ProblemError(problem('API_NO_DAEMON', 'crtosd left the bus while a job was running; its result is unknown', { hint: 'see the crtosd log' }));
        for (const w of this.jobWaiters.values()) w.gone(this.daemonGone);
        this.jobWaiters.clear();
      }
    });
    const rules = [
      `type='signal',sender='${BUS_NAME}',path='${MANAGER_PATH}',interface='${MANAGER_IFACE}',member='JobRemoved'`,
      `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${BUS_NAME}'`,
    ];
    for (const rule of rules) {
      await this.bus.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'AddMatch', signature: 's', body: [rule] });
    }
  }

  /** Queues a job and returns its object path without waiting for it. */
  async enqueue(id: string, type: JobType): Promise<string> {
    const member = type === 'start' ? 'StartUnit' : type === 'stop' ? 'StopUnit' : type === 'restart' ? 'RestartUnit' : undefined;
    if (!member) throw new ProblemError(problem('API_CALL_FAILED', `job type ${type} cannot be queued from crtosctl`));
    const [path] = await this.call(MANAGER_PATH, MANAGER_IFACE, member, 'ss', [id, 'replace']);
    return String(path);
  }

  /** Queues all jobs, then waits for every one to end; results in the order given. */
  async runJobs(jobs: { unit: string; type: JobType }[], timeoutMs?: number): Promise<JobOutcome[]> {
    await this.watchJobs();
    const queued: { unit: string; type: JobType; path: string }[] = [];
    for (const j of jobs) queued.push({ ...j, path: await this.enqueue(j.unit, j.type) });
    return Promise.all(
      queued.map(
        (j) =>
          new Promise<JobOutcome>((resolve, reject) => {
            const jobId = Number(j.path.split('/').pop());
            const done = (result: JobResult): void => {
              if (timer) clearTimeout(timer);
              resolve({ unit: j.unit, type: j.type, jobId, result });
            };
            const early = this.jobResults.get(j.path);
            const timer =
              early === undefined && timeoutMs !== undefined
                ? setTimeout(() => {
                    this.jobWaiters.delete(j.path);
                    reject(new ProblemError(problem('API_TIMEOUT', `the ${j.type} job of ${j.unit} did not finish within ${timeoutMs} ms`, { unit: j.unit })));
                  }, timeoutMs)
                : undefined;
            if (early !== undefined) {
              this.jobResults.delete(j.path);
              done(early);
            } else if (this.daemonGone) {
              if (timer) clearTimeout(timer);
              reject(this.daemonGone);
            } else {
              this.jobWaiters.set(j.path, {
                done,
                gone: (e) => {
                  if (timer) clearTimeout(timer);
                  reject(e);
                },
              });
            }
          }),
      ),
    );
  }
}

const API_CODES = Object.entries(apiCodes) as [ProblemCode, CodeInfo][];
const claims = (info: CodeInfo, name: string): boolean => info.dbus?.fromErrors?.includes(name) === true;

/** A D-Bus error reply as the API_ code that claims its error name (src/errors/codes/api.ts). */
export function problemOfBusError(e: BusErrorContext): Problem {
  const [code, info] = API_CODES.find(([, i]) => claims(i, e.error)) ?? API_CODES.find(([, i]) => claims(i, '*')) ?? ['API_CALL_FAILED', {}];
  const message = info.dbus?.message?.(e) ?? e.text;
  return problem(code, message, info.dbus?.hint === undefined ? {} : { hint: info.dbus.hint });
}

function unreachable(address: string, e: unknown): ProblemError {
  const code = e && typeof e === 'object' && 'code' in e ? (e as { code: unknown }).code : undefined;
  const why = code === 'ENOENT' ? 'no such socket' : code === 'ECONNREFUSED' ? 'connection refused' : e instanceof Error ? e.message : String(e);
  return new ProblemError(problem('API_BUS_UNREACHABLE', `cannot connect to the bus at ${address}: ${why}`, { hint: 'is crtosd running? pass --bus ADDRESS or set CRTOS_BUS_ADDRESS' }));
}

function deepPlain(v: unknown): unknown {
  const x = plain(v);
  if (Array.isArray(x)) return x.map(deepPlain);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, deepPlain(y)]));
  return x;
}
