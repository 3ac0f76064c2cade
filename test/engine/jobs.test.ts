/**
 * The job runner (src/engine/jobs.ts) on the simulated machine, without the Manager: a plan's jobs
 * run through the kinds' behaviours, with their events, records, holds and failures.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../../src/host/host.js';
import { createLinuxHost } from '../../src/host/index.js';
import { plan } from '../../src/engine/plan.js';
import { StartHistory } from '../../src/engine/supervision.js';
import type { Hold } from '../../src/engine/types.js';
import { makeFixture, type Fixture } from './harness.js';
import { makeParts, type Parts } from './parts.js';

let f: Fixture;
let parts: Parts | undefined;

beforeEach(async () => {
  f = await makeFixture();
});

afterEach(async () => {
  // What the tests started is taken down again, so no loader outlives them.
  if (parts && parts.records.map.size > 0) await runPlan(parts, new Map([...parts.set.units.keys()].map((id): [string, Hold] => [id, { reason: 'stopped' }])));
  parts?.close();
  parts = undefined;
  await f.cleanup();
});

/** Plans against what the machine shows now and runs the plan's jobs. */
async function runPlan(p: Parts, holds: ReadonlyMap<string, Hold> = p.holds) {
  const observed = await p.observe();
  const thePlan = plan({ set: p.set, descriptions: p.descriptions, records: p.records.map, observed, holds });
  const outcomes = await p.jobs.applyJobs(thePlan, p.set, observed);
  return new Map(thePlan.jobs.map((j) => [`${j.type} ${j.unit}`, outcomes.get(j.index)!]));
}

describe('JobRunner', () => {
  test('runs a plan that brings the example up: each job announced, then removed after the unit reached its state; every unit recorded active', async () => {
    parts = await makeParts(f);
    const outcomes = await runPlan(parts);
    expect([...outcomes.values()].every((o) => o.result === 'done'), JSON.stringify([...outcomes])).toBe(true);
    expect(outcomes.size).toBe(parts.set.units.size);
    for (const id of parts.set.units.keys()) {
      expect(parts.records.map.get(id)?.phase, id).toBe('active');
      expect(parts.runtimes.get(id)?.activeState, id).toBe('active');
      const mine = parts.events.filter((e) => e.info.unit === id);
      expect(mine.map((e) => `${e.type} ${e.info.type} ${e.result ?? ''}`.trim()), id).toEqual(['new start', 'removed start done']);
    }
    // The kinds' facts are recorded: the cell's name and CPUs, the loader's process.
    expect(parts.records.map.get('nuttx.cell')?.facts).toMatchObject({ cellName: 'nuttx', cpus: expect.arrayContaining([expect.any(Number)]) });
    expect(parts.records.map.get('hello.loader')?.facts).toMatchObject({ pid: expect.any(Number), startTime: expect.any(Number), invocationId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    // Its sub-state is the kind's own, as observation will report it.
    expect(parts.runtimes.get('jailhouse.hypervisor')?.subState).toBe('enabled');
    expect(parts.runtimes.get('nuttx.image')?.subState).toBe('verified');
    expect((await f.machine.state()).jailhouse.cells.find((c) => c.name === 'nuttx')?.state).toBe('running');
  });

  test('makes the log directory through the Host before a start, and the loader writes its output there', async () => {
    const real = createLinuxHost({ root: f.machine.dir, env: f.machine.env, toolTimeoutMs: 5000, exitPollMs: 50 });
    const made: string[] = [];
    const host: Host = Object.assign(Object.create(real) as Host, {
      makeDirectory: (path: string) => (made.push(path), real.makeDirectory(path)),
    });
    const logDir = join(mkdtempSync(join(tmpdir(), 'crtos-jobs-logs-')), 'not', 'yet');
    try {
      parts = await makeParts(f, { host, logDir });
      await runPlan(parts);
      expect(made.length).toBeGreaterThan(0);
      expect(new Set(made)).toEqual(new Set([logDir]));
      expect(existsSync(join(logDir, 'hello.loader.log'))).toBe(true);
    } finally {
      rmSync(join(logDir, '../..'), { recursive: true, force: true });
    }
  });

  test('a unit past its start limit is not started: start-limit-hit, held, and what requires it fails as a dependency', async () => {
    parts = await makeParts(f);
    const history = new StartHistory();
    parts.histories.set('jailhouse.driver', history);
    for (let i = 0; i < 5; i++) expect(history.tryStart(Date.now(), { burst: 5, interval: 10_000 })).toBe(true);
    await f.machine.clearLog();
    const outcomes = await runPlan(parts);
    expect(outcomes.get('start jailhouse.driver')).toMatchObject({ result: 'failed', unitResult: 'start-limit-hit', error: { code: 'ENGINE_START_LIMIT' } });
    expect(parts.holds.get('jailhouse.driver')).toEqual({ reason: 'start-limit' });
    expect(outcomes.get('start jailhouse.hypervisor')?.result).toBe('dependency');
    expect(outcomes.get('start nuttx.cell')?.result).toBe('dependency');
    expect((await f.ops()).filter((o) => o.startsWith('modprobe jailhouse') || o.startsWith('jailhouse'))).toEqual([]);
  });

  test('adopts what it finds running without touching it; the cell keeps the name the machine knows it by', async () => {
    await f.machine.bringUp('running');
    await f.machine.clearLog();
    parts = await makeParts(f);
    const observed = await parts.observe();
    const thePlan = plan({ set: parts.set, descriptions: parts.descriptions, records: parts.records.map, observed, holds: parts.holds });
    const adopt = thePlan.jobs.filter((j) => j.type === 'adopt').map((j) => j.unit);
    expect(adopt).toEqual(expect.arrayContaining(['jailhouse.driver', 'jailhouse.hypervisor', 'nuttx.cell']));
    await parts.jobs.applyJobs(thePlan, parts.set, observed);
    expect(parts.records.map.get('nuttx.cell')).toMatchObject({ phase: 'active', facts: { cellName: 'nuttx', cpus: parts.descriptions.get('nuttx.cell')!.facts.cpus } });
    expect(parts.logs.some((l) => l.unit === 'nuttx.cell' && l.message.startsWith('found running; adopted without restarting it'))).toBe(true);
    // Adopting announces no job of its own and runs no jailhouse command.
    expect(parts.events.filter((e) => adopt.includes(e.info.unit))).toEqual([]);
    expect((await f.ops()).filter((o) => o.startsWith('jailhouse') || o.startsWith('modprobe'))).toEqual([]);
  });

  test('a start that fails leaves nothing half-made, and the unit follows its restart policy', async () => {
    await f.machine.setCellFailures([{ cell: 'nuttx', atStart: true }]);
    parts = await makeParts(f);
    const outcomes = await runPlan(parts);
    expect(outcomes.get('start nuttx.cell')).toMatchObject({ result: 'failed', error: { code: 'ENGINE_CELL_FAILED' } });
    // Destroyed again: its CPUs back to Linux, no record of a cell that does not run.
    expect((await f.machine.state()).jailhouse.cells.some((c) => c.name === 'nuttx')).toBe(false);
    expect(parts.records.map.has('nuttx.cell')).toBe(false);
    // onFailure: restart retries a failed start after the back-off, through a new pass.
    expect(parts.holds.get('nuttx.cell')).toEqual({ reason: 'restart-pending' });
    expect(parts.runtimes.get('nuttx.cell')).toMatchObject({ activeState: 'activating', subState: 'auto-restart' });
    await parts.untilReconcile(/^restart nuttx\.cell$/);
    expect(parts.holds.has('nuttx.cell')).toBe(false);
  });
});
