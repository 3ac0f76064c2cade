/**
 * Tools the engine runs are contained:
 *
 * - bounded(): a host operation is bounded by its unit's timeout. Given the ToolCall, the Host
 *   kills the operation's tool with its process group at the deadline, and the operation fails
 *   with ENGINE_TIMEOUT only once the tool is gone, so nothing it started finishes behind the
 *   unit's back (a hung `jailhouse cell create` completing after the retry's create was queued).
 * - observer(): every tool process is recorded in the state directory while it runs (pid, start
 *   time, argv, unit, deadline), through the state store.
 * - settlePrevious(): a restarted daemon, before it first reads the machine, awaits each tool its
 *   predecessor left running until that tool's own deadline, then kills it with its process group.
 *
 * Starting a process (fork and exec) holds the event loop until the child has exec'd: a dozen jobs
 * launched at once would start their tools in one turn. bounded() takes its turn at a TurnGate
 * first (turns.ts), so past a few ms the next tool starts in a later turn.
 */
import { randomBytes } from 'node:crypto';
import { TOOL_RUN_ENV, type Host, type ProcessIdentity, type ToolCall, type ToolRun, type ToolRunObserver } from '../host/host.js';
import { execReached } from '../host/processes.js';
import { problem, ProblemError } from '../errors/problem.js';
import type { LogLine } from './manager-api.js';
import type { ToolRunRecord, ToolRunStore } from './state-file.js';
import { TurnGate } from './turns.js';

/** After a tool was sent SIGTERM (and SIGKILL after the host's grace): how long it may take to go. */
const KILL_WAIT_MS = 3000;
/** A previous daemon's tool is awaited until its deadline, but never longer than this. */
const MAX_AWAIT_MS = 60_000;
/** Between SIGTERM and SIGKILL to a previous daemon's tool. */
const KILL_GRACE_MS = 500;
const POLL_MS = 20;

export interface ToolRunsContext {
  host: Host;
  store: ToolRunStore | undefined;
  log(level: LogLine['level'], unit: string | undefined, message: string): void;
  /** Asks for a pass: an operation given up on finished after all, and the machine may show it. */
  reconcile(reason: string): unknown;
}

export class ToolRuns {
  /** This daemon instance: records of another owner are a predecessor's. */
  private readonly owner = randomBytes(8).toString('hex');
  private settling: Promise<void> | undefined;
  private storeFailing = false;
  private readonly gate = new TurnGate();

  constructor(private readonly ctx: ToolRunsContext) {}

  /**
   * Runs `op` within `ms`. A function gets the ToolCall to hand to the Host: at the deadline its
   * signal fires, the Host kills the tool's process group, and the result is an ENGINE_TIMEOUT
   * naming `what`, the timeout and the killed process, once that process is gone (or, if it does
   * not go, after KILL_WAIT_MS: then a late end asks for a pass). A promise (an operation that runs
   * no tool) cannot be stopped: it is only given up at the deadline, and a pass looks at what it
   * left behind when it settles late.
   */
  bounded<T>(unit: string, op: Promise<T> | ((call: ToolCall) => Promise<T>), ms: number, what: string): Promise<T> {
    const abort = new AbortController();
    const running = new Map<number, ToolRun>();
    let p: Promise<T>;
    try {
      p = typeof op === 'function' ? this.gate.turn().then(() => op({ signal: abort.signal, runs: this.observer(unit, Date.now() + ms, running) })) : op;
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<T>((resolve, reject) => {
      let phase: 'running' | 'killing' | 'given-up' = 'running';
      let killed: ToolRun[] = [];
      let killTimer: NodeJS.Timeout | undefined;
      const timeout = (how: string) =>
        new ProblemError(problem('ENGINE_TIMEOUT', `${what} did not finish within ${ms} ms${how}`, { unit, hint: "raise the unit's `timeout` if the machine is just slow" }));
      const timer = setTimeout(() => {
        killed = [...running.values()];
        abort.abort();
        if (killed.length === 0) {
          phase = 'given-up';
          reject(timeout(''));
          return;
        }
        phase = 'killing';
        killTimer = setTimeout(() => {
          phase = 'given-up';
          reject(timeout(`; ${pids(killed)} got SIGTERM and SIGKILL but has not exited yet`));
        }, KILL_WAIT_MS);
      }, ms);
      const settle = (ok: boolean, value: unknown) => {
        clearTimeout(timer);
        clearTimeout(killTimer);
        if (phase === 'running') {
          if (ok) resolve(value as T);
          else reject(value);
        } else if (phase === 'killing') {
          // Done just as the deadline passed: it did finish, so that is what happened.
          if (ok) resolve(value as T);
          else reject(timeout(`; killed it with its process group (${pids(killed)})`));
        } else void this.ctx.reconcile(`${what} of ${unit} ${ok ? 'finished' : 'failed'} late`);
      };
      p.then(
        (v) => settle(true, v),
        (e: unknown) => settle(false, e),
      );
    });
  }

  /**
   * Records each tool process of one operation while it runs (for `unit`, none for observation),
   * and keeps the ones running in `running`. A record that cannot be written is logged once; the
   * tool runs all the same.
   */
  observer(unit: string | undefined, deadline: number, running?: Map<number, ToolRun>): ToolRunObserver {
    const about = { ...(unit === undefined ? {} : { unit }), owner: this.owner, deadline };
    return {
      spawning: (argv, wrappers) => {
        const token = randomBytes(8).toString('hex');
        this.write(unit, (store) => store.add({ op: 'spawning', pid: 0, startTime: 0, argv, token, ...(wrappers ? { wrappers } : {}), ...about, started: Date.now() }));
        return token;
      },
      started: (run) => {
        running?.set(run.pid, run);
        this.write(unit, (store) => {
          store.add({ ...run, ...about, started: Date.now() });
          if (run.token !== undefined) store.remove({ pid: 0, startTime: 0, token: run.token });
        });
      },
      ended: (run) => {
        running?.delete(run.pid);
        this.write(unit, (store) => store.remove(run));
      },
    };
  }

  /**
   * The tools a previous daemon left running, settled once, before this daemon first reads the
   * machine: each is awaited until its own deadline (a tool that was merely in progress ends by
   * itself, and what it did is then observed), then killed with its process group (SIGTERM, then
   * SIGKILL). A loader's wrappers are done once it runs its program. Records of tools gone are
   * removed; one that survives SIGKILL (stuck in the kernel) is logged and kept for the next start.
   */
  settlePrevious(): Promise<void> {
    return (this.settling ??= this.settleAll());
  }

  private async settleAll(): Promise<void> {
    const store = this.ctx.store;
    if (!store) return;
    let runs: ToolRunRecord[];
    try {
      runs = store.list().filter((r) => r.owner !== this.owner);
    } catch (e) {
      this.ctx.log('warn', undefined, `cannot read the records of running tools: ${(e as Error).message}; tools a previous crtosd left running are not looked for`);
      return;
    }
    await Promise.all(runs.map((r) => this.settleOne(store, r)));
  }

  private async settleOne(store: ToolRunStore, recorded: ToolRunRecord): Promise<void> {
    const { host } = this.ctx;
    let r = recorded;
    if (r.pid === 0) {
      // Recorded just before its spawn, by a daemon killed before it learnt the PID: found by its token, if it ran.
      const found = r.token === undefined ? undefined : await host.findProcessByEnv(TOOL_RUN_ENV, r.token);
      this.write(r.unit, (s) => s.remove(r));
      if (found === undefined) return;
      r = { ...r, pid: found.pid, startTime: found.startTime };
      this.write(r.unit, (s) => s.add(r));
    }
    const id: ProcessIdentity = { pid: r.pid, startTime: r.startTime };
    const name = `\`${r.argv.join(' ')}\` (pid ${r.pid})`;
    const over = async () => {
      const p = await host.process(id);
      return p === undefined || p.state === 'Z' || p.state === 'X' || (r.wrappers !== undefined && execReached(p.argv, r.wrappers));
    };
    const remove = () => this.write(r.unit, (s) => s.remove(r));
    if (await over()) return remove();
    const wait = Math.min(MAX_AWAIT_MS, Math.max(0, r.deadline - Date.now()));
    if (wait > 0) {
      this.ctx.log('info', r.unit, `${name}, started by the previous crtosd, is still running; waiting for it until its deadline (${wait} ms) before acting`);
      if (await pollUntil(over, wait)) {
        this.ctx.log('info', r.unit, `${name}, started by the previous crtosd, ended`);
        return remove();
      }
    }
    if ((await host.killGroup(id, 'SIGTERM')) > 0 && !(await this.gone(id, KILL_GRACE_MS))) {
      await host.killGroup(id, 'SIGKILL');
      if (!(await this.gone(id, KILL_WAIT_MS))) {
        this.ctx.log('error', r.unit, `${name}, left running by the previous crtosd past its deadline, got SIGKILL but has not exited (stuck in the kernel?); going on without it`);
        return;
      }
    }
    this.ctx.log('warn', r.unit, `killed ${name} with its process group: the previous crtosd left it running past its deadline`);
    remove();
  }

  private async gone(id: ProcessIdentity, ms: number): Promise<boolean> {
    await this.ctx.host.waitGroupGone(id, AbortSignal.timeout(ms));
    const p = await this.ctx.host.process(id);
    return p === undefined || p.state === 'Z' || p.state === 'X';
  }

  private write(unit: string | undefined, fn: (store: ToolRunStore) => void): void {
    const store = this.ctx.store;
    if (!store) return;
    try {
      fn(store);
      this.storeFailing = false;
    } catch (e) {
      if (!this.storeFailing) this.ctx.log('warn', unit, `cannot record a running tool in the state directory: ${(e as Error).message}`);
      this.storeFailing = true;
    }
  }
}

function pids(runs: readonly ToolRun[]): string {
  return runs.map((r) => `pid ${r.pid}`).join(', ');
}

async function pollUntil(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
  }
}
