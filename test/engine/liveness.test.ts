/**
 * Liveness checks (src/engine/health/liveness.ts, probes.ts). The scheduler on a Host whose TCP
 * probe the test answers, on vitest's fake clock: no timer without a check, one check in flight
 * per unit at most, the failure threshold, results that come while the unit is not live or after a
 * reset counting for nothing. The three probes on the real Linux host: a TCP endpoint, a command
 * (killed with its process group at its timeout) and a heartbeat file.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LivenessChecks, type LivenessContext, type LivenessWant } from '../../src/engine/health/liveness.js';
import { probe, type ProbeContext } from '../../src/engine/health/probes.js';
import type { LivenessSpec } from '../../src/engine/health/schema.js';
import type { Host, ToolRun } from '../../src/host/host.js';
import { createLinuxHost } from '../../src/host/index.js';
import { every, until } from '../helpers/wait-for.js';

const TCP: LivenessSpec = { tcp: { host: '127.0.0.1', port: 1 }, period: 1000, timeout: 500, failureThreshold: 3, initialDelay: 0 };
const want = (spec: Partial<LivenessSpec> = {}): LivenessWant => ({ spec: { ...TCP, ...spec }, env: {} });

/** A Host whose probeTcp calls wait for the test to answer them, in order. */
function answeredHost() {
  const calls: ((ok: boolean) => void)[] = [];
  const host = { probeTcp: () => new Promise<boolean>((resolve) => calls.push(resolve)) } as unknown as Host;
  return { host, calls };
}

describe('LivenessChecks (scheduling)', () => {
  let live: Set<string>;
  let failed: { id: string; failures: number; why: string }[];
  let checks: LivenessChecks | undefined;

  beforeEach(() => {
    vi.useFakeTimers();
    live = new Set(['c.cell']);
    failed = [];
  });
  afterEach(() => {
    checks?.close();
    checks = undefined;
    vi.useRealTimers();
  });

  const make = (host: Host): LivenessChecks => {
    const ctx: LivenessContext = { host, isLive: (id) => live.has(id), failed: (id, failures, why) => failed.push({ id, failures, why }), now: () => Date.now() };
    return (checks = new LivenessChecks(ctx));
  };
  /** Lets the probe's result and what it chains run. */
  const settle = () => vi.advanceTimersByTimeAsync(0);

  test('costs nothing without a check: no prober, no timer', () => {
    const c = make(answeredHost().host);
    c.sync(new Map());
    expect(c.checked()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('checks every period, never two at once, and raises the event at the threshold of failures in a row', async () => {
    const { host, calls } = answeredHost();
    make(host).sync(new Map([['c.cell', want()]]));
    expect(vi.getTimerCount()).toBe(1);
    await settle();
    expect(calls).toHaveLength(1);
    // The check hangs past several periods: no second one starts meanwhile, and no timer waits.
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    calls[0]!(false);
    await settle();
    // The next one a period after the last began: at once, as that is long past.
    expect(calls).toHaveLength(2);
    calls[1]!(true);
    await vi.advanceTimersByTimeAsync(1000);
    // A success between failures starts the count again.
    for (let i = 2; i < 5; i++) {
      expect(calls).toHaveLength(i + 1);
      calls[i]!(false);
      await vi.advanceTimersByTimeAsync(1000);
      expect(failed).toHaveLength(i < 4 ? 0 : 1);
    }
    expect(failed).toEqual([{ id: 'c.cell', failures: 3, why: expect.stringMatching(/^tcp 127\.0\.0\.1:1: /) }]);
  });

  test('does not check a unit that is not live, and forgets its failures meanwhile', async () => {
    const { host, calls } = answeredHost();
    make(host).sync(new Map([['c.cell', want({ failureThreshold: 2 })]]));
    await settle();
    calls[0]!(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(2);
    live.delete('c.cell');
    calls[1]!(false); // it went down while this check ran: counts for nothing
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toHaveLength(2);
    live.add('c.cell');
    await vi.advanceTimersByTimeAsync(1000);
    calls[2]!(false);
    await settle();
    expect(failed).toEqual([]);
  });

  test('a reset (a new run) voids the check under way and starts again after initialDelay', async () => {
    const { host, calls } = answeredHost();
    const c = make(host);
    c.sync(new Map([['c.cell', want({ failureThreshold: 2, initialDelay: 2000 })]]));
    await vi.advanceTimersByTimeAsync(2000);
    calls[0]!(false);
    await vi.advanceTimersByTimeAsync(1000);
    c.reset('c.cell');
    calls[1]!(false);
    await settle();
    expect(failed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1999);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(3);
  });

  test('stops a unit no longer wanted and restarts one whose check changed', async () => {
    const { host, calls } = answeredHost();
    const c = make(host);
    c.sync(new Map([['c.cell', want()]]));
    await settle();
    c.sync(new Map([['c.cell', want({ period: 2000 })]]));
    // The new prober checks at once (initialDelay 0) while the old one's check is still out.
    await settle();
    expect(calls).toHaveLength(2);
    calls[0]!(false);
    calls[1]!(true);
    c.sync(new Map());
    await settle();
    expect(c.checked()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    expect(failed).toEqual([]);
  });
});

describe('probes on the Linux host', () => {
  let root: string;
  let host: Host;
  let server: Server | undefined;
  const ctx = (extra: Partial<ProbeContext> = {}): ProbeContext => ({ host, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, heartbeat: {}, now: () => Date.now(), ...extra });
  const script = (name: string, body: string): string => {
    mkdirSync(join(root, 'opt'), { recursive: true });
    writeFileSync(join(root, 'opt', name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(root, 'opt', name), 0o755);
    return `/opt/${name}`;
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'crtos-liveness-'));
    host = createLinuxHost({ root, exitPollMs: 20 });
  });
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  test('tcp: healthy while it accepts; refused once nothing listens', async () => {
    server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const spec = { ...TCP, tcp: { host: '127.0.0.1', port } };
    expect(await probe(spec, ctx())).toEqual({ ok: true });
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    expect(await probe(spec, ctx())).toEqual({ ok: false, why: `tcp 127.0.0.1:${port}: connection refused or unreachable` });
  });

  test('exec: its exit status decides, its environment is the one given, and it is recorded while it runs', async () => {
    const check = script('check', 'test "$MODE" = good');
    const runs: string[] = [];
    const observer = () => ({ spawning: () => 'tok', started: (r: ToolRun) => runs.push(`started ${r.op} ${r.token}`), ended: (r: ToolRun) => runs.push(`ended ${r.pid > 0}`) });
    const spec = { ...TCP, tcp: undefined, exec: [check] as [string] };
    expect(await probe(spec, ctx({ env: { MODE: 'good' }, runs: observer }))).toEqual({ ok: true });
    expect(runs).toEqual(['started liveness tok', 'ended true']);
    expect(await probe(spec, ctx({ env: { MODE: 'bad' } }))).toEqual({ ok: false, why: `exec ${check}: exited with code 1` });
    expect(await probe({ ...spec, exec: ['/opt/missing'] }, ctx())).toMatchObject({ ok: false, why: expect.stringMatching(/^exec \/opt\/missing: cannot start it: /) });
  });

  test('exec: one that does not exit within its timeout is killed with its process group', async () => {
    const pidFile = join(root, 'child.pid');
    const hang = script('hang', `sleep 1000 & echo $! > ${pidFile}; wait`);
    const result = await probe({ ...TCP, tcp: undefined, exec: [hang], timeout: 300 }, ctx());
    expect(result).toEqual({ ok: false, why: `exec ${hang}: no exit within 300 ms; killed it with its process group` });
    const child = Number(readFileSync(pidFile, 'utf8'));
    const gone = () => {
      try {
        return /^\d+ \(sleep\) [ZX]/.test(readFileSync(`/proc/${child}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    await until('the check\'s child to be gone', gone, { sources: [every(20)], timeoutMs: 5000 });
  });

  test('heartbeat: healthy while the file changes, then how long it has not', async () => {
    mkdirSync(join(root, 'run'));
    const beat = join(root, 'run/beat');
    writeFileSync(beat, '1');
    let clock = 0;
    const memory = {};
    const spec = { ...TCP, tcp: undefined, heartbeat: { file: '/run/beat', size: 4 as const } };
    const check = () => probe(spec, ctx({ heartbeat: memory, now: () => clock }));
    expect(await check()).toEqual({ ok: true }); // the first read sets the mark
    clock = 1000;
    writeFileSync(beat, '2');
    expect(await check()).toEqual({ ok: true });
    clock = 3500;
    expect(await check()).toEqual({ ok: false, why: 'heartbeat /run/beat: unchanged for 2500 ms' });
    rmSync(beat);
    expect(await check()).toMatchObject({ ok: false, why: expect.stringMatching(/^heartbeat \/run\/beat: cannot read it \(/) });
  });

  test('heartbeat on a word of shared memory (offset, size): only those bytes count, read in place', async () => {
    mkdirSync(join(root, 'dev'), { recursive: true });
    const mem = join(root, 'dev/shm-window');
    const region = Buffer.alloc(0x2000);
    writeFileSync(mem, region);
    let clock = 0;
    const memory = {};
    const spec = { ...TCP, tcp: undefined, heartbeat: { file: '/dev/shm-window', offset: 0x1004n, size: 4 as const } };
    const check = () => probe(spec, ctx({ heartbeat: memory, now: () => clock }));
    expect(await check()).toEqual({ ok: true });
    // Another word changes: not the heartbeat.
    region.writeUInt32LE(7, 0x1000);
    writeFileSync(mem, region);
    clock = 3000;
    expect(await check()).toEqual({ ok: false, why: 'heartbeat /dev/shm-window@0x1004: unchanged for 3000 ms' });
    region.writeUInt32LE(1, 0x1004);
    writeFileSync(mem, region);
    expect(await check()).toEqual({ ok: true });
    rmSync(mem);
    expect(await check()).toMatchObject({ ok: false, why: expect.stringMatching(/^heartbeat \/dev\/shm-window@0x1004: cannot read it \(readRange: cannot read 4 bytes at 0x1004/) });
  });
});
