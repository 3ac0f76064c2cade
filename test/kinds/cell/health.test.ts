/**
 * A cell's `liveness:` and `health:` as unit files write them: what they parse to, the table the
 * cell runs by (with `onFailure` deciding what `health.on` leaves out), and every refusal at the
 * file, line and column of the value at fault.
 */
import { describe, expect, it } from 'vitest';
import { build, errorsOf, BASE } from '../../units/helpers.js';
import { cellHealthTable, type CellSpec } from '../../../src/kinds/cell/spec.js';
import { cellBehaviour } from '../../../src/kinds/cell/behaviour.js';
import { definitionOf } from '../../../src/kinds/index.js';

/** BASE's cell with these lines added. */
const cell = (fields: string) => build({ 'u.yaml': `${BASE}${fields}` });
const specOf = (fields: string): CellSpec => {
  const r = cell(fields);
  expect(errorsOf(r)).toEqual([]);
  return r.set!.units.get('nuttx.cell')!.spec as CellSpec;
};
/** The line of BASE + fields on which `text` first appears (1-based). */
const lineOf = (fields: string, text: string): number => `${BASE}${fields}`.split('\n').findIndex((l) => l.includes(text)) + 1;

const TABLE = `health:
  on: { failed: recover, liveness: recover, readyTimeout: cold }
  levels:
    recover: { action: reload, limit: 3, window: 60s, then: cold }
    cold: { action: restart, limit: 2, window: 5min, then: isolate }
    isolate: { action: stop-hypervisor }
`;

describe('Cell liveness', () => {
  it('takes one check with kubelet defaults, and durations as everywhere', () => {
    expect(specOf('liveness: { tcp: "127.0.0.1:42" }\n').liveness).toEqual({ tcp: { host: '127.0.0.1', port: 42 }, period: 1000, timeout: 1000, failureThreshold: 3, initialDelay: 0 });
    expect(specOf('liveness: { exec: [/bin/check, -q], period: 500ms, failureThreshold: 5, initialDelay: 2s }\n').liveness).toMatchObject({ exec: ['/bin/check', '-q'], period: 500, failureThreshold: 5, initialDelay: 2000 });
    expect(specOf('liveness: { heartbeat: { file: /sys/kernel/debug/rtos/tick } }\n').liveness).toMatchObject({ heartbeat: { file: '/sys/kernel/debug/rtos/tick' } });
  });

  it('refuses no check, two checks, a zero period and a relative program, where they are written', () => {
    for (const [fields, message] of [
      ['liveness: { period: 2s }\n', 'a liveness check takes exactly one of tcp, exec or heartbeat; write e.g. tcp: "172.16.0.2:42"'],
      ['liveness: { tcp: "127.0.0.1:42", exec: [/bin/x] }\n', 'a liveness check takes exactly one of tcp, exec or heartbeat, not tcp and exec; write e.g. tcp: "172.16.0.2:42"'],
    ] as const) {
      expect(errorsOf(cell(fields))).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_VALUE', file: 'u.yaml', line: lineOf(fields, 'liveness'), message })]);
    }
    expect(errorsOf(cell('liveness: { tcp: "127.0.0.1:42", period: 0 }\n'))).toEqual([expect.objectContaining({ message: expect.stringMatching(/^'liveness\.period' must be more than 0/) })]);
    expect(errorsOf(cell('liveness: { exec: [check] }\n'))).toEqual([expect.objectContaining({ message: expect.stringContaining('must be an absolute path') })]);
    expect(errorsOf(cell('liveness: { tcp: "127.0.0.1:42", failureTreshold: 2 }\n'))).toEqual([expect.objectContaining({ code: 'UNIT_UNKNOWN_FIELD', hint: "did you mean 'failureThreshold'?" })]);
  });

  it("names an exec check's program among the files validate --root checks", () => {
    const spec = specOf('liveness: { exec: [/opt/check, a] }\n');
    expect(definitionOf('Cell').files(spec as never)).toContainEqual({ field: 'liveness.exec.0', path: '/opt/check' });
  });

  it('changing liveness or health touches nothing that runs', () => {
    expect(definitionOf('Cell').changes).toMatchObject({ liveness: 'none', health: 'none' });
  });
});

describe('Cell health table', () => {
  it('runs by its table, with onFailure deciding the events the table does not name', () => {
    const table = cellHealthTable(specOf(`onFailure: restart\n${TABLE}`));
    expect(table.on).toEqual({
      failed: { level: 'recover' },
      liveness: { level: 'recover' },
      readyTimeout: { level: 'cold' },
      startFailed: { level: 'reload', legacy: 'onFailure: restart' },
    });
    expect(table.levels).toMatchObject({ recover: { action: 'reload', limit: 3, window: 60_000, then: 'cold' }, cold: { window: 300_000 }, isolate: { action: 'stop-hypervisor' }, reload: { action: 'reload' } });
  });

  it('without a table, onFailure is the table: today\'s behaviour', () => {
    const actions = (onFailure: string) => Object.fromEntries(Object.entries(cellHealthTable(specOf(onFailure ? `onFailure: ${onFailure}\n` : '')).on).map(([e, entry]) => [e, entry!.level]));
    expect(actions('')).toEqual({ failed: 'log', liveness: 'log', startFailed: 'log', readyTimeout: 'log' });
    expect(actions('restart')).toEqual({ failed: 'reload', liveness: 'reload', startFailed: 'reload', readyTimeout: 'reload' });
    expect(actions('stop')).toEqual({ failed: 'stop', liveness: 'stop', startFailed: 'log', readyTimeout: 'log' });
  });

  it('an event may name an action, and the behaviour hands the table, the check and the hypervisor to the supervisor', () => {
    const unit = cell('health: { on: { liveness: restart } }\nliveness: { tcp: "127.0.0.1:42" }\n').set!.units.get('nuttx.cell')!;
    const health = cellBehaviour.health!(unit);
    expect(health.table.on.liveness).toEqual({ level: 'restart' });
    expect(health.table.levels.restart).toEqual({ action: 'restart' });
    expect(health.liveness?.tcp).toEqual({ host: '127.0.0.1', port: 42 });
    expect(health.hypervisor).toBe('jailhouse.hypervisor');
  });

  it('refuses a name that is neither a level nor an action, with the near one', () => {
    const fields = 'health:\n  on: { failed: recovr }\n  levels:\n    recover: { action: reload }\n';
    expect(errorsOf(cell(fields))).toEqual([
      expect.objectContaining({
        code: 'UNIT_INVALID_VALUE',
        line: lineOf(fields, 'recovr'),
        column: `  on: { failed: `.length + 1,
        message: expect.stringMatching(/^'health\.on\.failed': 'recovr' is neither a level of health\.levels nor an action; did you mean 'recover'\? \(levels: recover; actions: ignore, log, reload/),
      }),
    ]);
    const then = 'health:\n  levels:\n    recover: { action: reload, limit: 1, window: 1min, then: cold }\n';
    expect(errorsOf(cell(then))).toEqual([expect.objectContaining({ line: lineOf(then, 'cold'), message: expect.stringContaining("'cold' is neither a level of health.levels nor an action") })]);
  });

  it('refuses escalation in a circle, at the then that closes it', () => {
    const fields = 'health:\n  levels:\n    a: { action: reload, limit: 1, window: 1min, then: b }\n    b: { action: restart, limit: 1, window: 1min, then: a }\n';
    expect(errorsOf(cell(fields))).toEqual([
      expect.objectContaining({ line: lineOf(fields, '    b:'), message: 'levels a → b → a escalate in a circle, which never ends; end the chain at a level without limit (e.g. then: stop)' }),
    ]);
    const self = 'health:\n  levels:\n    a: { action: reload, limit: 1, window: 1min, then: a }\n';
    expect(errorsOf(cell(self))).toEqual([expect.objectContaining({ message: expect.stringContaining('levels a → a escalate in a circle') })]);
  });

  it('refuses half an escalation, a level named like an action, an unknown action or event', () => {
    const half = 'health:\n  levels:\n    recover: { action: reload, limit: 3 }\n';
    expect(errorsOf(cell(half))).toEqual([
      expect.objectContaining({ line: lineOf(half, 'recover'), message: 'level recover escalates with limit, window and then together; add window and then (e.g. limit: 3, window: 60s, then: stop)' }),
    ]);
    expect(errorsOf(cell('health:\n  levels:\n    restart: { action: restart }\n'))).toEqual([expect.objectContaining({ message: expect.stringContaining("'restart' is an action, so it cannot name a level") })]);
    expect(errorsOf(cell('health:\n  levels:\n    recover: { action: reboot }\n'))).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_VALUE', message: expect.stringContaining("'health.levels.recover.action' must be one of 'ignore'") })]);
    expect(errorsOf(cell('health:\n  on: { exited: stop }\n'))).toEqual([expect.objectContaining({ code: 'UNIT_UNKNOWN_FIELD', message: "unknown field 'exited' in 'health.on'" })]);
  });
});
