/**
 * One liveness check of each kind, through the Host: a TCP connect, a command run (bounded, and
 * killed with its process group at its timeout), a heartbeat file read. Each resolves with ok or
 * why not, in words for the unit's log (`tcp 127.0.0.1:42: connection refused or unreachable`);
 * none rejects.
 */
import { TOOL_RUN_ENV, type Host, type ToolRun, type ToolRunObserver } from '../../host/host.js';
import type { LivenessSpec } from './schema.js';

export type ProbeResult = { ok: true } | { ok: false; why: string };

/** A heartbeat's last value and when it last changed (ms); kept per unit by the caller between checks. */
export interface HeartbeatMemory {
  value?: string;
  changedAt?: number;
}

export interface ProbeContext {
  host: Host;
  /** Environment of an exec check (PATH, and a loader's own variables). */
  env: Record<string, string>;
  /** Records an exec check's process while it runs (the state directory), as every tool crtosd runs. */
  runs?: (deadline: number) => ToolRunObserver;
  heartbeat: HeartbeatMemory;
  now(): number;
}

const OK: ProbeResult = { ok: true };
/** How long an exec check killed at its timeout may take to go. */
const KILL_WAIT_MS = 3000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

export function probe(spec: LivenessSpec, ctx: ProbeContext): Promise<ProbeResult> {
  if (spec.tcp) return probeTcp(spec.tcp, spec.timeout, ctx);
  if (spec.exec) return probeExec(spec.exec, spec.timeout, ctx);
  return probeHeartbeat(spec.heartbeat!, spec.timeout, ctx);
}

async function probeTcp(tcp: { host: string; port: number }, timeout: number, ctx: ProbeContext): Promise<ProbeResult> {
  const started = ctx.now();
  if (await ctx.host.probeTcp(tcp.host, tcp.port, timeout)) return OK;
  const where = `tcp ${tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host}:${tcp.port}`;
  // The Host says only whether it connected: one that failed before its timeout was refused (or
  // had no route), one that took all of it got no answer.
  return { ok: false, why: ctx.now() - started < timeout ? `${where}: connection refused or unreachable` : `${where}: no connection within ${timeout} ms` };
}

async function probeExec(argv: readonly string[], timeout: number, ctx: ProbeContext): Promise<ProbeResult> {
  const name = `exec ${argv[0]}`;
  const runs = ctx.runs?.(Date.now() + timeout);
  // Recorded before the spawn with a token in its environment, so a crtosd killed meanwhile leaves
  // a record by which the next one finds and ends it.
  const token = runs?.spawning?.([...argv]);
  const pending: ToolRun = { op: 'liveness', pid: 0, startTime: 0, argv: [...argv], ...(token === undefined ? {} : { token }) };
  let id;
  try {
    id = await ctx.host.spawn({ argv: [...argv], env: token === undefined ? ctx.env : { ...ctx.env, [TOOL_RUN_ENV]: token }, cwd: '/' });
  } catch (e) {
    runs?.ended(pending);
    return { ok: false, why: `${name}: cannot start it: ${(e as Error).message}` };
  }
  const run: ToolRun = { ...pending, pid: id.pid, startTime: id.startTime };
  runs?.started(run);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeout)));
  const exit = await Promise.race([ctx.host.waitExit(id), deadline]);
  clearTimeout(timer);
  if (exit === undefined) {
    await ctx.host.killGroup(id, 'SIGKILL');
    // One stuck in the kernel is not waited for: its record stays for the next crtosd to settle.
    const gone = await Promise.race([ctx.host.waitExit(id).then(() => true), sleep(KILL_WAIT_MS).then(() => false)]);
    if (gone) runs?.ended(run);
    return { ok: false, why: `${name}: no exit within ${timeout} ms; killed it with its process group${gone ? '' : `, which has not gone ${KILL_WAIT_MS} ms after SIGKILL`}` };
  }
  runs?.ended(run);
  if (exit.code === 0) return OK;
  return { ok: false, why: `${name}: ${exit.signal ? `killed by ${exit.signal}` : exit.code === null ? 'exit status unknown' : `exited with code ${exit.code}`}` };
}

/** The heartbeat's value now: the file's text, or with an offset the bytes there (as hex). */
function readBeat(beat: { file: string; offset?: bigint | undefined; size: number }, host: ProbeContext['host']): Promise<{ text: string } | { error: string }> {
  if (beat.offset === undefined) return host.readAttributes([beat.file]).then((r) => r[0]!);
  return host.readRange(beat.file, beat.offset, beat.size).then(
    (bytes) => ({ text: bytes.toString('hex') }),
    (e: Error) => ({ error: e.message }),
  );
}

async function probeHeartbeat(beat: { file: string; offset?: bigint | undefined; size: number }, timeout: number, ctx: ProbeContext): Promise<ProbeResult> {
  const file = beat.offset === undefined ? beat.file : `${beat.file}@0x${beat.offset.toString(16)}`;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeout)));
  const read = await Promise.race([readBeat(beat, ctx.host), deadline]);
  clearTimeout(timer);
  const now = ctx.now();
  const memory = ctx.heartbeat;
  if (read === undefined) return { ok: false, why: `heartbeat ${file}: not read within ${timeout} ms` };
  if (!('text' in read)) return { ok: false, why: `heartbeat ${file}: cannot read it (${read.error})` };
  if (memory.value === undefined || memory.value !== read.text) {
    // The first read only sets the mark the next ones compare against.
    memory.value = read.text;
    memory.changedAt = now;
    return OK;
  }
  return { ok: false, why: `heartbeat ${file}: unchanged for ${now - (memory.changedAt ?? now)} ms` };
}
