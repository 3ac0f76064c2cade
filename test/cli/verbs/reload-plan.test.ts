// reload and plan (src/cli/verbs/reload.ts, plan.ts, format/plan.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { problem } from '../../../src/errors/problem.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.stop());

const GOOD = { ok: true, problems: [], steps: [{ unit: 'hello.loader', action: 'restart' as const, reason: 'field exec changed' }, { unit: 'nuttx.cell', action: 'reload' as const, reason: 'image nuttx.image changed' }] };
const BAD = { ok: false, problems: [problem('UNIT_UNKNOWN_FIELD' as never, "unknown field 'onFailur'", { file: 'units/nuttx.yaml', line: 12, column: 3, unit: 'nuttx.cell' })], steps: [] };

describe('crtosctl plan', () => {
  it('lists the steps a reload would take', async () => {
    h.manager.reloadOutcome = GOOD;
    const r = await h.ctl(['plan']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('A reload would take 2 steps:\n  restart  hello.loader  field exec changed\n  reload   nuttx.cell    image nuttx.image changed\n');
    expect(h.manager.calls).toContain('planReload');
    expect(h.manager.calls).not.toContain('reload');
  });

  it('says when there is nothing to do', async () => {
    h.manager.reloadOutcome = { ok: true, problems: [], steps: [] };
    expect((await h.ctl(['plan'])).stdout).toBe('Nothing to do: the machine matches the unit files.\n');
  });

  it('reports unit file errors and exits 1', async () => {
    h.manager.reloadOutcome = BAD;
    const r = await h.ctl(['plan']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("A reload would be refused: the unit files have errors.\nunits/nuttx.yaml:12:3: error[UNIT_UNKNOWN_FIELD]: unknown field 'onFailur' (nuttx.cell)\n");
  });

  it('prints the outcome as JSON', async () => {
    h.manager.reloadOutcome = BAD;
    const r = await h.ctl(['plan', '--json']);
    expect(JSON.parse(r.stdout)).toEqual(BAD);
  });
});

describe('crtosctl reload', () => {
  it('applies and lists the steps taken', async () => {
    h.manager.reloadOutcome = GOOD;
    const r = await h.ctl(['reload']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('Reloaded; 2 steps applied:');
    expect(h.manager.calls).toContain('reload');
  });

  it('exits 1 with the problems when the files have errors', async () => {
    h.manager.reloadOutcome = BAD;
    const r = await h.ctl(['reload']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Reload refused: the unit files have errors; the last good set keeps running.');
    const j = await h.ctl(['--json', 'reload']);
    expect(JSON.parse(j.stdout).ok).toBe(false);
    expect(j.code).toBe(1);
  });

  it('exits 1 and marks the steps that failed when the set was applied but a step failed', async () => {
    const failure = problem('ENGINE_START_FAILED' as never, 'jailhouse cell load nuttx failed: Invalid argument', { unit: 'nuttx.cell' });
    h.manager.reloadOutcome = { ok: false, problems: [failure], steps: GOOD.steps };
    const r = await h.ctl(['reload']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      'Reloaded, but 1 of 2 steps failed:\n' +
        '  restart  hello.loader  field exec changed         done\n' +
        '  reload   nuttx.cell    image nuttx.image changed  failed\n' +
        'error[ENGINE_START_FAILED]: jailhouse cell load nuttx failed: Invalid argument (nuttx.cell)\n',
    );
  });
});
