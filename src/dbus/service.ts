/**
 * crtosd's D-Bus service: one low-level method handler for every call addressed to us (so the
 * caller's identity is at hand and no library code can put a stack trace into a reply), objects
 * derived from the engine's state on demand, and signals for every change the engine reports.
 */
import dbus from 'dbus-next';
import type { Message, MessageBus } from 'dbus-next';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { JobInfo, JobResult, JobType, LogLine, ManagerApi, ManagerEvents, ReloadOutcome, UnitStatus } from '../engine/manager-api.js';
import { ProblemError, isProblemError, problem } from '../errors/problem.js';
import { hasOperatorApi, type OperatorApi } from '../engine/operator-api.js';
import { replyErrorOf } from '../errors/codes.js';
import { introspectXml } from './introspect.js';
import { selectLog } from './log-query.js';
import { callerCredentials, JOURNAL_READER_GROUPS, mayCall } from './access.js';
import { encodeProblem } from './problem-codec.js';
import { jobObjectPath, jobIdFromPath, unitIdFromPath, unitObjectPath, busLabelEscape } from './object-path.js';
import {
  ERRORS,
  INTROSPECTABLE_IFACE,
  JOB_MODES,
  JOB_PATH_PREFIX,
  MANAGER_IFACE,
  MANAGER_PATH,
  PEER_IFACE,
  PROPERTIES_IFACE,
  UNIT_IFACE,
  UNIT_PATH_PREFIX,
} from './names.js';
import { JOB, MANAGER, kindInterface, STANDARD, UNIT, inSignature, outSignature, type InterfaceDef, type MethodDef } from './schema.js';
import { changedProperties, jobProperties, managerProperties, unitListEntry, unitProperties, usec, type ObjectProperties } from './properties.js';
import { CallSlices } from './call-slices.js';
import { SignalQueue } from './signal-queue.js';
import { busStream, writesBatchedPerTurn } from './write-batch.js';

const { Message: Msg, Variant, MessageType } = dbus;
const NO_REPLY_EXPECTED = 1;
const MAX_LOG_LINES = 1000;

/** A method's answer: a return value, or a D-Bus error (name and a message for people). */
type Reply = { signature: string; body: unknown[] } | { error: string; text: string };

/** A log line on the bus (LOG_LINE_TYPE). */
const logLineBody = (l: LogLine): unknown[] => [BigInt(Math.max(0, Math.trunc(l.time))), l.level, l.unit ?? '', l.message];

class CallError extends Error {
  constructor(
    readonly errorName: string,
    text: string,
  ) {
    super(text);
  }
}

/** An object in our tree: its interfaces and how to read their properties. */
interface BusObject {
  interfaces: InterfaceDef[];
  properties(): ObjectProperties;
  children: string[];
}

export interface ServiceOptions {
  /** gid of the admin group; undefined = root only. */
  adminGid?: number;
  /** Groups whose members may read the units' logs: the admin group, adm, systemd-journal (those that exist). */
  logReaderGids?: number[];
  adminGroupName?: string;
  logger?: Logger;
  /** crtosd's daemon-wide log lines (its records naming no unit, src/daemon/log/recent.ts), for GetLog. */
  daemonLog?: () => LogLine[];
  /** The metrics in Prometheus's text format (src/metrics), for the Metrics method. */
  metrics?: () => string;
}

export class DbusService {
  /** Last values announced per object path, to send only what changed. */
  private readonly announced = new Map<string, ObjectProperties>();
  private readonly jobs = new Map<number, JobInfo>();
  private readonly handler = (msg: Message): boolean => this.onMessage(msg);
  private readonly listeners: Array<() => void> = [];
  /** Calls are handled a slice at a time (call-slices.ts), so a burst never holds the engine up for long. */
  private readonly slices = new CallSlices();
  /** Called before each send: what one turn sends leaves in one write (write-batch.ts). */
  private readonly beforeSend: () => void;
  /**
   * The signals, sent in order when the loop next turns (signal-queue.ts): a unit that changed
   * several times in a turn is announced once, and a bring-up's bursts (every unit installed, then
   * refreshed, a dozen jobs launched) are not marshalled in the turn that made them.
   */
  private readonly signals: SignalQueue;
  private closed = false;

  constructor(
    private readonly bus: MessageBus,
    private readonly manager: ManagerApi,
    private readonly opts: ServiceOptions,
  ) {
    this.beforeSend = writesBatchedPerTurn(busStream(bus));
    this.signals = new SignalQueue((e) => this.opts.logger?.error({ err: e }, 'D-Bus: failed to send a signal'));
  }

  /** Installs the handler and the engine listeners; the caller then requests the name. */
  attach(): void {
    this.bus.addMethodHandler(this.handler);
    for (const u of this.manager.listUnits()) this.announced.set(unitObjectPath(u.id), unitProperties(u));
    this.announced.set(MANAGER_PATH, this.managerProps());
    this.listen('unitChanged', (s) => this.onUnitChanged(s));
    this.listen('unitNew', (id) => this.onUnitNew(id));
    this.listen('unitRemoved', (id) => this.onUnitRemoved(id));
    this.listen('jobNew', (job) => this.onJobNew(job));
    this.listen('jobRemoved', (job, result) => this.onJobRemoved(job, result));
    this.listen('daemonChanged', () => this.announceManager());
  }

  detach(): void {
    this.closed = true;
    this.slices.stop();
    this.signals.stop();
    this.bus.removeMethodHandler(this.handler);
    for (const off of this.listeners.splice(0)) off();
  }

  private listen<E extends keyof ManagerEvents>(event: E, fn: (...args: ManagerEvents[E]) => void): void {
    // A failure to announce must not break the engine's emit loop.
    const safe = (...args: ManagerEvents[E]): void => {
      try {
        fn(...args);
      } catch (e) {
        this.opts.logger?.error({ err: e, event }, 'D-Bus: failed to announce an engine event');
      }
    };
    this.manager.on(event, safe);
    this.listeners.push(() => this.manager.off(event, safe));
  }

  // ---- engine events → signals ----

  private signal(path: string, iface: string, member: string, signature: string, body: unknown[]): void {
    if (this.closed) return;
    this.beforeSend();
    this.bus.send(Msg.newSignal(path, iface, member, signature, body));
  }

  private announce(path: string, now: ObjectProperties, defs: InterfaceDef[]): void {
    const before = this.announced.get(path);
    this.announced.set(path, now);
    for (const def of defs) {
      const values = now[def.name];
      if (!values) continue;
      const changed = changedProperties(before?.[def.name], values);
      const dict: Record<string, unknown> = {};
      for (const p of def.properties) {
        if (p.emits === 'true' && p.name in changed) dict[p.name] = new Variant(p.type, changed[p.name]);
      }
      if (Object.keys(dict).length > 0) this.signal(path, PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as', [def.name, dict, []]);
    }
  }

  private onUnitChanged(s: UnitStatus): void {
    const path = unitObjectPath(s.id);
    this.signals.change(path, () => this.announce(path, unitProperties(s), [UNIT, kindInterface(s.kind)]));
  }

  private onUnitNew(id: string): void {
    const path = unitObjectPath(id);
    // What it shows now is what a client reading it after UnitNew finds: later changes are sent from there.
    const s = this.manager.getUnit(id);
    this.signals.signal(() => {
      if (s) this.announced.set(path, unitProperties(s));
      this.signal(MANAGER_PATH, MANAGER_IFACE, 'UnitNew', 'so', [id, path]);
    });
    this.announceManager();
  }

  private onUnitRemoved(id: string): void {
    const path = unitObjectPath(id);
    this.signals.signal(() => {
      this.announced.delete(path);
      this.signal(MANAGER_PATH, MANAGER_IFACE, 'UnitRemoved', 'so', [id, path]);
    });
    this.announceManager();
  }

  private onJobNew(job: JobInfo): void {
    if (this.jobs.has(job.id)) {
      this.jobs.set(job.id, job);
      return;
    }
    this.jobs.set(job.id, job);
    this.signals.signal(() => this.signal(MANAGER_PATH, MANAGER_IFACE, 'JobNew', 'uos', [job.id, jobObjectPath(job.id), job.unit]));
    this.announceManager();
  }

  private onJobRemoved(job: JobInfo, result: JobResult): void {
    this.jobs.delete(job.id);
    this.signals.signal(() => this.signal(MANAGER_PATH, MANAGER_IFACE, 'JobRemoved', 'uoss', [job.id, jobObjectPath(job.id), job.unit, result]));
    this.announceManager();
  }

  private managerProps(): ObjectProperties {
    return managerProperties(this.manager.daemon(), this.manager.unitIds().length, this.jobs.size);
  }

  private announceManager(): void {
    this.signals.last(MANAGER_PATH, () => this.announce(MANAGER_PATH, this.managerProps(), [MANAGER]));
  }

  // ---- the object tree ----

  private objectAt(path: string): BusObject | undefined {
    const standardOnly = (children: string[]): BusObject => ({ interfaces: STANDARD, properties: () => ({}), children });
    switch (path) {
      case '/':
        return standardOnly(['org']);
      case '/org':
        return standardOnly(['crtos']);
      case '/org/crtos':
        return standardOnly(['Manager1', 'unit', 'job']);
      case UNIT_PATH_PREFIX.slice(0, -1):
        return standardOnly(this.manager.unitIds().map((id) => busLabelEscape(id)));
      case JOB_PATH_PREFIX.slice(0, -1):
        return standardOnly([...this.jobs.keys()].map(String));
      case MANAGER_PATH:
        return { interfaces: [...STANDARD, MANAGER], properties: () => this.managerProps(), children: [] };
    }
    const unitId = unitIdFromPath(path);
    if (unitId !== undefined) {
      const s = this.manager.getUnit(unitId);
      if (!s) return undefined;
      return { interfaces: [...STANDARD, UNIT, kindInterface(s.kind)], properties: () => unitProperties(this.manager.getUnit(unitId) ?? s), children: [] };
    }
    const jobId = jobIdFromPath(path);
    const job = jobId === undefined ? undefined : this.jobs.get(jobId);
    if (job) return { interfaces: [...STANDARD, JOB], properties: () => jobProperties(this.jobs.get(job.id) ?? job), children: [] };
    return undefined;
  }

  // ---- method calls ----

  private onMessage(msg: Message): boolean {
    if (msg.type !== MessageType.METHOD_CALL) return false;
    this.slices.push(() => this.handle(msg));
    // Every call addressed to this connection is ours: nothing falls through to library handlers.
    return true;
  }

  /**
   * Answers a call: at once when the answer is at hand (a read, a job queued), so the slice that
   * handles it also pays for its reply; later when it waits on something (a reload, an access check).
   */
  private handle(msg: Message): void {
    let reply: Reply | Promise<Reply>;
    try {
      reply = this.dispatch(msg);
    } catch (e) {
      reply = this.errorReply(e, msg);
    }
    if (reply instanceof Promise) {
      void reply.then(
        (r) => this.reply(msg, r),
        (e: unknown) => this.reply(msg, this.errorReply(e, msg)),
      );
    } else this.reply(msg, reply);
  }

  private reply(msg: Message, reply: Reply): void {
    if (this.closed || (msg.flags & NO_REPLY_EXPECTED) !== 0) return;
    this.beforeSend();
    try {
      if ('error' in reply) this.bus.send(Msg.newError(msg as never, reply.error, reply.text));
      else this.bus.send(Msg.newMethodReturn(msg, reply.signature, reply.body));
    } catch (e) {
      // A value that does not marshal is our bug; answer without details and log them.
      this.opts.logger?.error({ err: e, member: msg.member, path: msg.path }, 'D-Bus: cannot marshal a reply');
      this.bus.send(Msg.newError(msg as never, ERRORS.failed, 'Internal error; see the crtosd log'));
    }
  }

  private errorReply(e: unknown, msg: Message): Reply {
    if (e instanceof CallError) return { error: e.errorName, text: e.message };
    if (isProblemError(e)) {
      // The first problem says what went wrong; its code's registry entry names the error.
      const first = e.problems[0];
      return { error: first ? replyErrorOf(first.code) : ERRORS.failed, text: e.problems.map((x) => x.message).join('; ') };
    }
    this.opts.logger?.error({ err: e, member: msg.member, path: msg.path, sender: msg.sender }, 'D-Bus: method failed');
    return { error: ERRORS.failed, text: `${msg.member ?? 'call'} failed with an internal error; see the crtosd log` };
  }

  private findMethod(obj: BusObject, msg: Message): { iface: InterfaceDef; method: MethodDef } {
    const candidates = msg.interface ? obj.interfaces.filter((i) => i.name === msg.interface) : obj.interfaces;
    if (msg.interface && candidates.length === 0) throw new CallError(ERRORS.unknownInterface, `Object ${msg.path} has no interface ${msg.interface}`);
    for (const iface of candidates) {
      const method = iface.methods.find((m) => m.name === msg.member);
      if (!method) continue;
      const got = msg.signature ?? '';
      if (inSignature(method) !== got) {
        throw new CallError(ERRORS.invalidArgs, `Invalid arguments '${got}' to call ${iface.name}.${method.name}(), expecting '${inSignature(method)}'`);
      }
      return { iface, method };
    }
    throw new CallError(ERRORS.unknownMethod, `Unknown method ${msg.member} on ${msg.interface ?? 'any interface of'} ${msg.path}`);
  }

  private dispatch(msg: Message): Reply | Promise<Reply> {
    const obj = this.objectAt(msg.path);
    if (!obj) throw new CallError(ERRORS.unknownObject, `Unknown object '${msg.path}'`);
    const { iface, method } = this.findMethod(obj, msg);
    const answer = (body: unknown[]): Reply => ({ signature: outSignature(method), body });
    if (method.privileged || method.readsLogs) return this.authorize(msg, method.privileged === true).then(() => this.invoke(obj, iface, method, msg)).then(answer);
    const body = this.invoke(obj, iface, method, msg);
    return body instanceof Promise ? body.then(answer) : answer(body);
  }

  /** A state change needs root or the admin group; reading logs also a journal reader's group. */
  private async authorize(msg: Message, changesState: boolean): Promise<void> {
    const creds = await callerCredentials(this.bus, msg.sender).catch(() => undefined);
    const admin = this.opts.adminGid === undefined ? [] : [this.opts.adminGid];
    const gids = changesState ? admin : (this.opts.logReaderGids ?? admin);
    if (creds && mayCall(creds, gids)) return;
    const who = creds ? `uid ${creds.uid}` : 'an unidentified caller';
    const names = [...(this.opts.adminGroupName ? [this.opts.adminGroupName] : []), ...(changesState ? [] : JOURNAL_READER_GROUPS)].map((g) => `'${g}'`);
    const group = names.length === 0 ? '' : ` or membership of group ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`}`;
    this.opts.logger?.warn({ sender: msg.sender, uid: creds?.uid, member: msg.member }, changesState ? 'D-Bus: refused a state change' : 'D-Bus: refused a log read');
    throw new ProblemError(problem('API_ACCESS_DENIED', `${msg.member} needs root${group}; refused for ${who}`));
  }

  /** The call's return values; a promise for a call that waits on the engine (a reload, a kill). */
  private invoke(obj: BusObject, iface: InterfaceDef, method: MethodDef, msg: Message): unknown[] | Promise<unknown[]> {
    const args = msg.body as unknown[];
    switch (`${iface.name}.${method.name}`) {
      case `${PEER_IFACE}.Ping`:
        return [];
      case `${PEER_IFACE}.GetMachineId`:
        return [machineId()];
      case `${INTROSPECTABLE_IFACE}.Introspect`:
        return [introspectXml(obj.interfaces, obj.children)];
      case `${PROPERTIES_IFACE}.Get`:
        return [this.getProperty(obj, String(args[0]), String(args[1]))];
      case `${PROPERTIES_IFACE}.GetAll`:
        return [this.getAll(obj, String(args[0]))];
      case `${PROPERTIES_IFACE}.Set`:
        throw new CallError(ERRORS.propertyReadOnly, `Property ${String(args[1])} of ${String(args[0])} is read-only`);
      case `${MANAGER_IFACE}.ListUnits`:
        return [this.manager.listUnits().map(unitListEntry)];
      case `${MANAGER_IFACE}.ListJobs`:
        return [[...this.jobs.values()].map((j) => [j.id, j.unit, j.type, j.state, jobObjectPath(j.id), unitObjectPath(j.unit)])];
      case `${MANAGER_IFACE}.GetUnit`:
        return [unitObjectPath(this.requireUnit(String(args[0])).id)];
      case `${MANAGER_IFACE}.GetUnitLog`: {
        const unit = this.requireUnit(String(args[0]));
        const lines = Math.min(Number(args[1]), MAX_LOG_LINES);
        return [this.manager.unitLog(unit.id, lines).map(logLineBody)];
      }
      case `${MANAGER_IFACE}.GetLog`: {
        const named = (args[0] as string[]).map((name) => this.requireUnit(name).id);
        const ids = named.length > 0 ? named : this.manager.unitIds();
        const daemon = named.length > 0 ? [] : (this.opts.daemonLog?.() ?? []);
        const lines = selectLog({ units: ids.map((id) => this.manager.unitLog(id, 0)), daemon, since: Number(args[1]), lines: Number(args[2]) });
        return [lines.map(logLineBody)];
      }
      case `${MANAGER_IFACE}.GetTimeline`:
        return [this.manager.timeline().map((o) => [o.unit, o.job, o.jobType, o.operation, o.detail, usec(o.start), usec(o.end), o.result])];
      case `${MANAGER_IFACE}.StartUnit`:
        return [this.enqueue(String(args[0]), String(args[1]), 'start')];
      case `${MANAGER_IFACE}.StopUnit`:
        return [this.enqueue(String(args[0]), String(args[1]), 'stop')];
      case `${MANAGER_IFACE}.RestartUnit`:
        return [this.enqueue(String(args[0]), String(args[1]), 'restart')];
      case `${MANAGER_IFACE}.Reload`:
        return this.manager.reload().then(outcomeBody);
      case `${MANAGER_IFACE}.PlanReload`:
        return this.manager.planReload().then(outcomeBody);
      case `${MANAGER_IFACE}.Metrics`:
        if (!this.opts.metrics) throw new ProblemError(problem('ENGINE_UNSUPPORTED', 'this crtosd keeps no metrics'));
        return [this.opts.metrics()];
      case `${MANAGER_IFACE}.ResetFailed`:
        this.operator().resetFailed();
        return [];
      case `${MANAGER_IFACE}.ResetFailedUnit`:
        this.operator().resetFailed(this.requireUnit(String(args[0])).id);
        return [];
      case `${MANAGER_IFACE}.KillUnit`: {
        const whom = String(args[1]) || 'all';
        if (whom !== 'main' && whom !== 'all') throw new CallError(ERRORS.invalidArgs, `Kill whom '${whom}' is not supported; use 'main' or 'all'`);
        return this.operator()
          .kill(this.requireUnit(String(args[0])).id, whom, signalName(Number(args[2])))
          .then(() => []);
      }
      case `${MANAGER_IFACE}.MaskUnitFiles`:
        return [this.operator().mask(args[0] as string[], args[1] === true ? 'runtime' : 'persistent').map((c) => [c.type, c.file, c.destination])];
      case `${MANAGER_IFACE}.UnmaskUnitFiles`:
        return [this.operator().unmask(args[0] as string[], args[1] === true ? 'runtime' : 'persistent').map((c) => [c.type, c.file, c.destination])];
      case `${UNIT_IFACE}.Start`:
        return [this.enqueue(unitIdFromPath(msg.path) ?? '', String(args[0]), 'start')];
      case `${UNIT_IFACE}.Stop`:
        return [this.enqueue(unitIdFromPath(msg.path) ?? '', String(args[0]), 'stop')];
      case `${UNIT_IFACE}.Restart`:
        return [this.enqueue(unitIdFromPath(msg.path) ?? '', String(args[0]), 'restart')];
    }
    throw new CallError(ERRORS.unknownMethod, `Method ${iface.name}.${method.name} is not implemented`);
  }

  private operator(): OperatorApi {
    if (!hasOperatorApi(this.manager)) throw new ProblemError(problem('ENGINE_UNSUPPORTED', 'this manager takes no reset-failed, kill or mask requests'));
    return this.manager;
  }

  private requireUnit(name: string): UnitStatus {
    const s = this.manager.getUnit(name);
    if (!s) throw new ProblemError(problem('ENGINE_NO_SUCH_UNIT', `Unit ${name} not loaded.`));
    return s;
  }

  private enqueue(name: string, mode: string, type: JobType): string {
    if (!(JOB_MODES as readonly string[]).includes(mode)) {
      throw new CallError(ERRORS.invalidArgs, `Job mode '${mode}' is not supported; use ${JOB_MODES.map((m) => `'${m}'`).join(' or ')}`);
    }
    const unit = this.requireUnit(name);
    const job = this.manager.enqueue(unit.id, type);
    // The engine announces the job with jobNew; record it here too in case it already finished
    // being announced or never will, so the returned path names a live object.
    if (!this.jobs.has(job.id)) this.onJobNew(job);
    return jobObjectPath(job.id);
  }

  private findInterface(obj: BusObject, name: string): InterfaceDef {
    const def = obj.interfaces.find((i) => i.name === name);
    if (!def) throw new CallError(ERRORS.unknownInterface, `No interface ${name} on this object`);
    return def;
  }

  private getProperty(obj: BusObject, ifaceName: string, prop: string): unknown {
    const def = this.findInterface(obj, ifaceName);
    const p = def.properties.find((x) => x.name === prop);
    const value = obj.properties()[ifaceName]?.[prop];
    // A kind property whose field the unit's details lack is not sent (properties.ts kindProperties).
    if (!p || value === undefined) throw new CallError(ERRORS.unknownProperty, `No property ${prop} on interface ${ifaceName}`);
    return new Variant(p.type, value);
  }

  private getAll(obj: BusObject, ifaceName: string): Record<string, unknown> {
    // An empty interface name means all interfaces (D-Bus spec); ours have distinct names.
    const defs = ifaceName === '' ? obj.interfaces : [this.findInterface(obj, ifaceName)];
    const values = obj.properties();
    const out: Record<string, unknown> = {};
    for (const def of defs) {
      for (const p of def.properties) {
        const value = values[def.name]?.[p.name];
        if (value !== undefined) out[p.name] = new Variant(p.type, value);
      }
    }
    return out;
  }
}

/** A signal number on the bus (KillUnit's, as systemd's) to its name; InvalidArgs for one Linux does not have. */
function signalName(n: number): NodeJS.Signals {
  const name = (Object.keys(constants.signals) as NodeJS.Signals[]).find((s) => constants.signals[s] === n);
  if (!name) throw new CallError(ERRORS.invalidArgs, `Signal number ${n} is not a signal`);
  return name;
}

function outcomeBody(o: ReloadOutcome): unknown[] {
  return [o.ok, o.problems.map((p) => encodeProblem(p)), o.steps.map((s) => [s.unit, s.action, s.reason])];
}

let cachedMachineId: string | undefined;
function machineId(): string {
  if (cachedMachineId) return cachedMachineId;
  for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const id = readFileSync(f, 'utf8').trim();
      if (/^[0-9a-f]{32}$/.test(id)) return (cachedMachineId = id);
    } catch {
      // try the next
    }
  }
  throw new CallError(ERRORS.failed, 'No machine id on this system');
}

