/**
 * A small in-memory ManagerApi for testing the D-Bus service and crtosctl without the engine:
 * jobs run on timers and move units through activating → active (or failed) with the events the
 * real engine emits.
 */
import { EventEmitter } from 'node:events';
import type {
  DaemonStatus,
  JobInfo,
  JobResult,
  JobType,
  LogLine,
  ManagerApi,
  ManagerEvents,
  ReloadOutcome,
  TimelineOperation,
  UnitDetails,
  UnitStatus,
} from '../../../src/engine/manager-api.js';
import type { KindName } from '../../../src/kinds/spec-common.js';
import { ProblemError, problem } from '../../../src/errors/problem.js';

const NOW = 1_700_000_000_000_000;

export function makeUnit(id: string, details: UnitDetails, over: Partial<UnitStatus> = {}): UnitStatus {
  return {
    id,
    kind: details.kind as KindName,
    description: `The ${id} unit`,
    loadState: 'loaded',
    activeState: 'inactive',
    subState: 'dead',
    result: 'success',
    timestamps: { stateChange: NOW, inactiveExit: 0, activeEnter: 0, activeExit: 0, inactiveEnter: NOW, monotonic: { stateChange: 0, inactiveExit: 0, activeEnter: 0, activeExit: 0, inactiveEnter: 0 } },
    sourcePath: `/etc/crtos/units/${id.split('.')[0]}.yaml`,
    dropInPaths: [],
    requires: [],
    wants: [],
    after: [],
    before: [],
    requiredBy: [],
    wantedBy: [],
    details,
    ...over,
  };
}

export function crtosUnits(): UnitStatus[] {
  return [
    makeUnit('jailhouse.driver', { kind: 'Driver', module: 'jailhouse', parameters: {}, loaded: true }, { activeState: 'active', subState: 'loaded', requiredBy: ['jailhouse.hypervisor'] }),
    makeUnit('jailhouse.hypervisor', { kind: 'Hypervisor', type: 'jailhouse', enabled: true }, { activeState: 'active', subState: 'enabled', requires: ['jailhouse.driver'] }),
    makeUnit(
      'nuttx.cell',
      { kind: 'Cell', cellId: -1, jailhouseState: '', cpus: [], failedCpus: [], configPath: '/etc/jailhouse/nuttx.cell' },
      { requires: ['jailhouse.hypervisor', 'nuttx.image'], dropInPaths: ['/run/crtos/units/nuttx.cell.d/50-loopback.yaml'], description: 'NuttX real-time cell' },
    ),
    makeUnit('nuttx.image', { kind: 'Image', path: '/opt/crtos/nuttx.bin', sha256: 'ab'.repeat(32) }, { activeState: 'active', subState: 'verified' }),
    makeUnit('shadow.driver', { kind: 'Driver', module: 'shadow', parameters: { debug: '1' }, loaded: false }),
    makeUnit('crtos-link.network', { kind: 'Network', interface: 'enp0s13', addresses: [], up: false }),
    makeUnit('hello.loader', { kind: 'Loader', pid: 0, exitCode: -1, exitSignal: '', restarts: 0 }, { activeState: 'failed', subState: 'failed', result: 'exit-code' }),
  ];
}

export interface FakeOptions {
  /** Units whose start jobs fail. */
  failing?: string[];
  /** Job duration in ms. */
  jobMs?: number;
}

export class FakeManager implements ManagerApi {
  private readonly emitter = new EventEmitter();
  readonly units = new Map<string, UnitStatus>();
  private nextJob = 1;
  readonly logs: LogLine[] = [];
  daemonStatus: DaemonStatus = { version: '0.1.0-test', unitDirectories: ['/etc/crtos/units'], lastLoadErrors: [], lastReconcile: NOW, systemState: 'running' };
  reloadOutcome: ReloadOutcome = { ok: true, problems: [], steps: [{ unit: 'hello.loader', action: 'restart', reason: 'field exec changed' }] };
  /** Calls seen, for asserting what was asked. */
  readonly calls: string[] = [];

  constructor(
    units: UnitStatus[] = crtosUnits(),
    private readonly opts: FakeOptions = {},
  ) {
    for (const u of units) this.units.set(u.id, u);
    this.emitter.setMaxListeners(50);
  }

  daemon(): DaemonStatus {
    return this.daemonStatus;
  }
  listUnits(): UnitStatus[] {
    return [...this.units.values()];
  }
  unitIds(): string[] {
    return [...this.units.keys()];
  }
  getUnit(id: string): UnitStatus | undefined {
    return this.units.get(id);
  }
  unitLog(id: string, lines: number): LogLine[] {
    if (id === 'explode.driver') throw new Error('boom in unitLog');
    return this.logs.filter((l) => l.unit === id).slice(-lines);
  }
  /** What GetTimeline serves. */
  operations: TimelineOperation[] = [];
  timeline(): TimelineOperation[] {
    return this.operations;
  }
  async reload(): Promise<ReloadOutcome> {
    this.calls.push('reload');
    return this.reloadOutcome;
  }
  async planReload(): Promise<ReloadOutcome> {
    this.calls.push('planReload');
    return this.reloadOutcome;
  }

  setUnit(id: string, change: Partial<UnitStatus>): void {
    const u = this.units.get(id);
    if (!u) return;
    const next = { ...u, ...change, timestamps: { ...u.timestamps, stateChange: Date.now() * 1000 } };
    this.units.set(id, next);
    this.emit('unitChanged', next);
  }

  enqueue(id: string, type: JobType): JobInfo {
    this.calls.push(`${type} ${id}`);
    const u = this.units.get(id);
    if (!u) throw new ProblemError(problem('ENGINE_NO_SUCH_UNIT', `no unit ${id}`));
    const job: JobInfo = { id: this.nextJob++, unit: id, type, state: 'waiting' };
    this.emit('jobNew', job);
    this.setUnit(id, { job });
    const ms = this.opts.jobMs ?? 20;
    setTimeout(() => {
      const fails = type !== 'stop' && (this.opts.failing ?? []).includes(id);
      const running = { ...job, state: 'running' as const };
      this.setUnit(id, { job: running, activeState: type === 'stop' ? 'deactivating' : 'activating', subState: type === 'stop' ? 'stopping' : 'starting' });
      setTimeout(() => {
        let result: JobResult = 'done';
        if (type === 'stop') this.setUnit(id, { job: undefined, activeState: 'inactive', subState: 'dead' });
        else if (fails) {
          result = 'failed';
          this.logs.push({ time: Date.now() * 1000, level: 'error', unit: id, message: `${id}: start failed` });
          this.setUnit(id, { job: undefined, activeState: 'failed', subState: 'failed', result: 'exit-code', lastError: problem('ENGINE_START_FAILED', `${id} did not start`, { unit: id }) });
        } else {
          this.logs.push({ time: Date.now() * 1000, level: 'info', unit: id, message: `${id}: started` });
          this.setUnit(id, { job: undefined, activeState: 'active', subState: 'running', result: 'success' });
        }
        this.emit('jobRemoved', running, result);
      }, ms);
    }, ms);
    return job;
  }

  emit<E extends keyof ManagerEvents>(event: E, ...args: ManagerEvents[E]): void {
    this.emitter.emit(event, ...args);
  }
  on<E extends keyof ManagerEvents>(event: E, listener: (...args: ManagerEvents[E]) => void): this {
    this.emitter.on(event, listener as (...a: unknown[]) => void);
    return this;
  }
  off<E extends keyof ManagerEvents>(event: E, listener: (...args: ManagerEvents[E]) => void): this {
    this.emitter.off(event, listener as (...a: unknown[]) => void);
    return this;
  }
  listenerCount(): number {
    return this.emitter.eventNames().reduce((n, e) => n + this.emitter.listenerCount(e), 0);
  }
}
