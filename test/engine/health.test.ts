/**
 * The health-monitor table (src/engine/health/table.ts, record.ts): resolution over an old policy
 * field's defaults, escalation through named levels within sliding windows, what is recorded and
 * said of each decision, and circular escalation found.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decide, describeDecision, durationText, escalationCycles, resolveTable, within, type HealthLevel, type HealthTable } from '../../src/engine/health/table.js';
import { recordDecision, type HealthRecord } from '../../src/engine/health/record.js';

/** The example table, with onFailure: none's defaults for what it leaves out. */
const EXAMPLE = resolveTable(
  {
    on: { failed: 'recover', liveness: 'recover' },
    levels: {
      recover: { action: 'reload', limit: 3, window: 60_000, then: 'cold' },
      cold: { action: 'restart', limit: 2, window: 300_000, then: 'isolate' },
      isolate: { action: 'stop-hypervisor' },
    },
  },
  { failed: { action: 'log', legacy: 'onFailure: none' }, startFailed: { action: 'log', legacy: 'onFailure: none' } },
);

/** Raises `event` at each time (ms), recording as the supervisor does; the levels and actions taken. */
function run(table: HealthTable, times: number[], event: 'failed' | 'liveness' = 'failed'): { taken: string[]; record: HealthRecord | undefined } {
  let record: HealthRecord | undefined;
  const taken: string[] = [];
  for (const now of times) {
    const d = decide(table, record?.taken ?? {}, event, now)!;
    record = recordDecision(record, table, d, `event at ${now}`, now);
    taken.push(`${d.level}:${d.action}`);
  }
  return { taken, record };
}

describe('resolveTable', () => {
  it('takes the declared entries over the defaults, and makes named actions levels of their own', () => {
    expect(EXAMPLE.on).toEqual({ failed: { level: 'recover' }, liveness: { level: 'recover' }, startFailed: { level: 'log', legacy: 'onFailure: none' } });
    expect(Object.keys(EXAMPLE.levels).sort()).toEqual(['cold', 'isolate', 'log', 'recover']);
    const direct = resolveTable({ on: { liveness: 'restart' }, levels: { a: { action: 'reload', limit: 1, window: 1000, then: 'stop' } } }, {});
    expect(direct.levels).toEqual({ a: { action: 'reload', limit: 1, window: 1000, then: 'stop' }, restart: { action: 'restart' }, stop: { action: 'stop' } });
  });

  it('without a declared table, the defaults are the table, marked as such', () => {
    expect(resolveTable(undefined, { failed: { action: 'reload', legacy: 'onFailure: restart' } })).toEqual({ on: { failed: { level: 'reload', legacy: 'onFailure: restart' } }, levels: { reload: { action: 'reload' } } });
  });
});

describe('decide', () => {
  it('escalates recover → cold → isolate after each limit within its window, the levels counted per level', () => {
    const s = 1000;
    // Three reloads, two restarts, then isolate, all within a minute; liveness shares failed's levels.
    const { taken } = run(EXAMPLE, [0, 1, 2, 3, 4, 5, 6].map((t) => t * s));
    expect(taken).toEqual(['recover:reload', 'recover:reload', 'recover:reload', 'cold:restart', 'cold:restart', 'isolate:stop-hypervisor', 'isolate:stop-hypervisor']);
  });

  it("slides: once recover's window has passed its older actions, the next event is recover's again", () => {
    const { taken, record } = run(EXAMPLE, [0, 10_000, 20_000, 30_000, 70_000, 75_000]);
    // 30 s: recover acted 3 times in the last 60 s → cold; 70 s: only the 20 s one is within the window → recover.
    expect(taken).toEqual(['recover:reload', 'recover:reload', 'recover:reload', 'cold:restart', 'recover:reload', 'recover:reload']);
    expect(record!.taken).toEqual({ recover: [20_000, 70_000, 75_000], cold: [30_000] });
  });

  it('says which entry decided it: the old field when it did, none once escalated', () => {
    expect(decide(EXAMPLE, {}, 'startFailed', 0)).toMatchObject({ level: 'log', action: 'log', legacy: 'onFailure: none', passed: [] });
    expect(decide(EXAMPLE, {}, 'readyTimeout', 0)).toBeUndefined();
    expect(decide(EXAMPLE, { recover: [0, 1, 2] }, 'liveness', 3)).toEqual({
      event: 'liveness',
      level: 'cold',
      action: 'restart',
      nth: 1,
      limit: 2,
      window: 300_000,
      passed: [{ level: 'recover', limit: 3, window: 60_000 }],
    });
  });

  it('never acts more than a level\'s limit within any of its windows (random chains and event times)', () => {
    const chain = fc.array(fc.record({ limit: fc.integer({ min: 1, max: 4 }), window: fc.integer({ min: 1, max: 50 }) }), { minLength: 1, maxLength: 4 });
    const gaps = fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(chain, gaps, (levels, steps) => {
        const declared: Record<string, HealthLevel> = {};
        levels.forEach((l, i) => (declared[`l${i}`] = { action: 'reload', limit: l.limit, window: l.window, then: `l${i + 1}` }));
        declared[`l${levels.length}`] = { action: 'stop' };
        const table = resolveTable({ on: { failed: 'l0' }, levels: declared }, {});
        let now = 0;
        const times = steps.map((g) => (now += g));
        const acted = new Map<string, number[]>();
        let record: HealthRecord | undefined;
        for (const t of times) {
          const d = decide(table, record?.taken ?? {}, 'failed', t)!;
          record = recordDecision(record, table, d, '', t);
          acted.set(d.level, [...(acted.get(d.level) ?? []), t]);
          // Every level it passed over had acted its limit within its window.
          for (const p of d.passed) expect(within(acted.get(p.level), p.window, t).length).toBeGreaterThanOrEqual(p.limit);
        }
        levels.forEach((l, i) => {
          const ts = acted.get(`l${i}`) ?? [];
          for (const t of ts) expect(ts.filter((u) => u <= t && t - u < l.window).length).toBeLessThanOrEqual(l.limit);
        });
      }),
      { seed: 13, numRuns: 300 },
    );
  });
});

describe('recordDecision', () => {
  it('counts events and actions, keeps the level and the last event, and only the times escalation needs', () => {
    const { record } = run(EXAMPLE, [0, 1000, 2000, 3000]);
    expect(record).toEqual({
      events: { failed: 4 },
      actions: { reload: 3, restart: 1 },
      level: 'cold',
      last: { time: 3000 * 1000, event: 'failed', level: 'cold', action: 'restart', why: 'event at 3000' },
      taken: { recover: [0, 1000, 2000], cold: [3000] },
    });
    // A level that does not escalate keeps no times.
    const log = decide(EXAMPLE, {}, 'startFailed', 5000)!;
    expect(recordDecision(record, EXAMPLE, log, 'start failed', 5000).taken).toEqual(record!.taken);
  });
});

describe('words', () => {
  it('describes a decision as the log line ends', () => {
    expect(describeDecision(decide(EXAMPLE, { recover: [0] }, 'liveness', 1)!)).toBe('level recover: reload (2 of 3 in 1min)');
    expect(describeDecision(decide(EXAMPLE, { recover: [0, 1, 2], cold: [0, 1] }, 'failed', 3)!)).toBe('level isolate: stop-hypervisor (recover acted 3 times in 1min; cold acted 2 times in 5min)');
    expect(describeDecision(decide(resolveTable({ on: { failed: 'restart' }, levels: {} }, {}), {}, 'failed', 0)!)).toBe('restart');
  });

  it('writes durations as unit files do', () => {
    expect([250, 1000, 1500, 60_000, 90_000, 300_000, 5_400_000].map(durationText)).toEqual(['250ms', '1s', '1.5s', '1min', '1min 30s', '5min', '1h 30min']);
  });
});

describe('escalationCycles', () => {
  it('finds each circle once, and nothing in a chain that ends', () => {
    expect(escalationCycles({ a: { then: 'b' }, b: { then: 'c' }, c: {} })).toEqual([]);
    expect(escalationCycles({ a: { then: 'b' }, b: { then: 'a' }, c: { then: 'a' } })).toEqual([['a', 'b', 'a']]);
    expect(escalationCycles({ s: { then: 's' } })).toEqual([['s', 's']]);
    // A then naming an action (not a level) ends the chain.
    expect(escalationCycles({ a: { then: 'stop' } })).toEqual([]);
  });
});
