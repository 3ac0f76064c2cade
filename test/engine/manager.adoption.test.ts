/**
 * The crash window between a loader's spawn and its 'active' record: a daemon killed there leaves a
 * 'starting' record with an invocation id but no PID. The next daemon must find the running loader
 * by its INVOCATION_ID and adopt it, and start a new one only when that process is gone.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until, ALL_ACTIVE, makeFixture, settle, states, type Fixture } from './harness.js';
import type { AppliedRecord } from '../../src/engine/types.js';

const LOADER = 'hello.loader';

describe('a loader spawned but not recorded before the daemon died', () => {
  let f: Fixture;
  const statePath = () => join(f.stateDir, 'state.json');
  const readState = () => JSON.parse(readFileSync(statePath(), 'utf8')) as { version: number; units: Record<string, AppliedRecord> };
  /** Rewrites the loader's record as the crash left it: 'starting', invocation id kept, no PID. */
  const simulateCrashWindow = () => {
    const state = readState();
    const rec = state.units[LOADER]!;
    const { pid: _pid, startTime: _startTime, ...facts } = rec.facts;
    state.units[LOADER] = { ...rec, phase: 'starting', facts };
    writeFileSync(statePath(), JSON.stringify(state));
  };
  const loaderOps = async () => (await f.ops()).filter((o) => /^(loader|chrt|taskset) /.test(o));

  beforeAll(async () => {
    f = await makeFixture();
  });
  afterAll(async () => f.cleanup());

  let original: { pid: number; startTime: number; invocationId: string };

  test('the loader runs with the INVOCATION_ID its record holds', async () => {
    const m = f.manager();
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    m.close();
    const facts = readState().units[LOADER]!.facts;
    expect(facts.invocationId).toMatch(/^[0-9a-f]{32}$/);
    original = { pid: facts.pid!, startTime: facts.startTime!, invocationId: facts.invocationId! };
    const environ = readFileSync(`/proc/${original.pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain(`INVOCATION_ID=${original.invocationId}`);
  });

  test('a restarted daemon adopts the running loader instead of starting a second one', async () => {
    simulateCrashWindow();
    await f.machine.clearLog();
    const m = f.manager();
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    m.close();
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect(await loaderOps()).toEqual([]);
    expect(m.getUnit(LOADER)?.details).toMatchObject({ kind: 'Loader', pid: original.pid });
    const rec = readState().units[LOADER]!;
    expect(rec.phase).toBe('active');
    expect(rec.facts).toMatchObject(original);
  });

  test('with that process gone, the restarted daemon starts the loader again', async () => {
    simulateCrashWindow();
    process.kill(original.pid, 'SIGKILL');
    await until(() => {
      try {
        return readFileSync(`/proc/${original.pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
      } catch {
        return true;
      }
    });
    await f.machine.clearLog();
    const m = f.manager();
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    expect(states(m)).toEqual(ALL_ACTIVE);
    expect((await loaderOps()).some((o) => o.startsWith('loader '))).toBe(true);
    const rec = readState().units[LOADER]!;
    expect(rec.phase).toBe('active');
    expect(rec.facts.pid).not.toBe(original.pid);
    expect(rec.facts.invocationId).toMatch(/^[0-9a-f]{32}$/);
    expect(rec.facts.invocationId).not.toBe(original.invocationId);
    expect(m.getUnit(LOADER)?.details).toMatchObject({ kind: 'Loader', pid: rec.facts.pid });
  });

  test('a loader removed from the unit files meanwhile is found by its INVOCATION_ID and stopped', async () => {
    const running = readState().units[LOADER]!.facts;
    simulateCrashWindow();
    rmSync(join(f.unitsDir, 'hello.yaml'));
    await f.machine.clearLog();
    const m = f.manager();
    expect((await m.start()).ok).toBe(true);
    await settle(m);
    m.close();
    expect(await loaderOps()).toEqual([]);
    expect(readState().units[LOADER]).toBeUndefined();
    await until(() => !existsSync(`/proc/${running.pid}/environ`) || readFileSync(`/proc/${running.pid}/environ`).length === 0);
  });
});
