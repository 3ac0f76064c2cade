import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { checkExit, isActiveExit } from '../../../src/cli/verbs/is-active.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.stop());

describe('crtosctl is-active', () => {
  it('exits 0 and prints active for an active unit', async () => {
    expect(await h.ctl(['is-active', 'jailhouse.driver'])).toEqual({ code: 0, stdout: 'active\n', stderr: '' });
  });

  it('exits 3 for inactive or failed units', async () => {
    expect(await h.ctl(['is-active', 'nuttx.cell', 'hello.loader'])).toEqual({ code: 3, stdout: 'inactive\nfailed\n', stderr: '' });
  });

  it('exits 4 when no unit is known (printed inactive, as systemctl prints it), and is silent with --quiet', async () => {
    expect(await h.ctl(['is-active', 'nope.cell'])).toEqual({ code: 4, stdout: 'inactive\n', stderr: '' });
    expect(await h.ctl(['is-active', '-q', 'nope.cell', 'nuttx.cell'])).toEqual({ code: 3, stdout: '', stderr: '' });
  });

  it('prints JSON', async () => {
    const r = await h.ctl(['is-active', '--json', 'jailhouse.driver', 'nope.cell']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { unit: 'jailhouse.driver', load: 'loaded', active: 'active' },
      { unit: 'nope.cell', load: 'not-found', active: 'inactive' },
    ]);
  });
});

describe('options before the verb, as systemctl takes them', () => {
  it('are the verb\'s own (-q, --no-legend, a value option with its value); one the verb does not take is bad usage', async () => {
    expect(await h.ctl(['-q', 'is-active', 'jailhouse.driver'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await h.ctl(['--no-pager', '--quiet', 'is-active', 'nuttx.cell'])).toEqual({ code: 3, stdout: '', stderr: '' });
    const noLegend = await h.ctl(['--no-legend', '--state', 'active', 'list-units']);
    expect(noLegend.code).toBe(0);
    expect(noLegend.stdout).toMatch(/^jailhouse\.driver /);
    expect(await h.ctl(['--signal', 'KILL', 'is-active', 'jailhouse.driver'])).toMatchObject({ code: 2, stderr: "crtosctl is-active: unknown option '--signal'\n" });
  });
});

describe('isActiveExit', () => {
  it('follows systemctl: any active wins, all unknown is 4, else 3', () => {
    expect(isActiveExit(['inactive', 'reloading'])).toBe('ok');
    expect(isActiveExit([undefined, undefined])).toBe('no-such-unit');
    expect(isActiveExit([undefined, 'failed'])).toBe('inactive');
  });

  it('is-failed\'s check: any failed wins, all unknown is 4, else its own code', () => {
    expect(checkExit(['active', 'failed'], ['failed'], 'failed')).toBe('ok');
    expect(checkExit([undefined], ['failed'], 'failed')).toBe('no-such-unit');
    expect(checkExit([undefined, 'inactive'], ['failed'], 'failed')).toBe('failed');
  });
});
