import { describe, expect, test } from 'vitest';
import { parseArgs } from '../../src/daemon/args.js';
import { formatLine } from '../../src/daemon/logger.js';
import { isEditorNoise } from '../../src/daemon/watch.js';
import { renderOnce, summary } from '../../src/daemon/daemon.js';
import type { UnitStatus } from '../../src/engine/manager-api.js';

describe('crtosd options', () => {
  test('every option, repeatable --units, --opt=value form', () => {
    const { options } = parseArgs(['--units', 'a', '--units=b', '--root', '/m', '--state-dir', '/s', '--mask-dir', '/k', '--bus', 'system', '--admin-group', 'crtos', '--log-level', 'debug', '--once', '--stop-on-exit', '--poll-interval', '250']);
    expect(options).toMatchObject({ units: ['a', 'b'], root: '/m', stateDir: '/s', maskDir: '/k', bus: 'system', adminGroup: 'crtos', logLevel: 'debug', once: true, stopOnExit: true, pollIntervalMs: 250 });
  });
  test('defaults', () => {
    expect(parseArgs([]).options).toMatchObject({ units: ['/etc/crtos/units', '/run/crtos/units', '/usr/lib/crtos/units'], root: '/', stateDir: '/run/crtos', logLevel: 'info', once: false });
  });
  test('bad input names the option and the fix', () => {
    const r = parseArgs(['--units', '--frobnicate', '--poll-interval', 'soon']);
    expect(r.options).toBeUndefined();
    expect(r.problems.map((p) => p.message)).toEqual(['--units needs a value', "unknown option '--frobnicate'", "--poll-interval must be a whole number of milliseconds, not 'soon'"]);
    expect(r.problems.every((p) => p.code === 'ENGINE_BAD_ARGUMENT')).toBe(true);
  });
});

describe('daemon output', () => {
  test('readable log lines carry the unit and extra fields', () => {
    const line = formatLine(JSON.stringify({ level: 50, time: Date.UTC(2026, 0, 1, 12, 0, 1, 5), unit: 'nuttx.cell', msg: 'start failed', errno: 'EBUSY' }), false);
    expect(line).toBe('12:00:01.005 ERROR nuttx.cell: start failed errno=EBUSY');
    expect(formatLine('not json', false)).toBe('not json');
  });
  test("editors' temporary files are not unit changes", () => {
    expect(['.hello.yaml.swp', 'hello.yaml~', '#hello.yaml#', '4913', '.hello.yaml.tmp', 'x.bak'].every(isEditorNoise)).toBe(true);
    expect(isEditorNoise('/etc/crtos/units/hello.yaml')).toBe(false);
  });
  test('--once table and the STATUS= summary', () => {
    const unit = (id: string, activeState: UnitStatus['activeState'], result: UnitStatus['result']) => ({ id, activeState, subState: 'x', result, lastError: { code: 'ENGINE_START_FAILED' as const, message: `${id} broke` } }) as unknown as UnitStatus;
    const units = [unit('b.cell', 'failed', 'exit-code'), unit('a.driver', 'active', 'success')];
    expect(renderOnce(units).split('\n')[1]).toMatch(/^a\.driver\s+active\s+x\s+success$/);
    expect(renderOnce(units)).toMatch(/b\.cell\s+failed\s+x\s+exit-code\s+b\.cell broke/);
    expect(summary(units)).toBe('2 units: 1 active, 1 failed');
  });
});
