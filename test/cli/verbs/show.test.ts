import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { formatTimestampAs, formatValue } from '../../../src/cli/verbs/show.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.stop());

describe('crtosctl show', () => {
  it('prints the manager properties without a unit', async () => {
    const r = await h.ctl(['show']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Version=0.1.0-test\n');
    expect(r.stdout).toContain('SystemState=running\n');
    expect(r.stdout).toContain('NUnits=7\n');
    // To the microsecond by default (the daemon keeps µs; systemctl's --timestamp=us).
    expect(r.stdout).toContain('LastReconcileTimestamp=Tue 2023-11-14 22:13:20.000000 UTC\n');
  });

  it('prints unit and kind properties as KEY=VALUE', async () => {
    const r = await h.ctl(['show', 'shadow.driver']);
    expect(r.stdout).toContain('Id=shadow.driver\n');
    expect(r.stdout).toContain('ActiveState=inactive\n');
    expect(r.stdout).toContain('Parameters=debug=1\n');
    expect(r.stdout).toContain('Loaded=no\n');
    expect(r.stdout).toContain('RequiredBy=\n');
    expect(r.stdout).toContain('Job=\n');
  });

  it('picks properties with -p and prints bare values with --value', async () => {
    expect((await h.ctl(['show', 'nuttx.cell', '-p', 'ActiveState,ConfigPath'])).stdout).toBe('ActiveState=inactive\nConfigPath=/etc/jailhouse/nuttx.cell\n');
    expect((await h.ctl(['show', 'nuttx.cell', '--property=SubState', '--value'])).stdout).toBe('dead\n');
    expect((await h.ctl(['show', 'nuttx.cell', '-p', 'ActiveState', '--property=SubState,ConfigPath'])).stdout).toBe('ActiveState=inactive\nSubState=dead\nConfigPath=/etc/jailhouse/nuttx.cell\n');
  });

  it('prints JSON, and exits 4 for an unknown unit', async () => {
    const r = await h.ctl(['show', '--json', 'nuttx.cell', '-p', 'Id,CPUs,StateChangeTimestamp']);
    expect(JSON.parse(r.stdout)).toEqual([{ Id: 'nuttx.cell', CPUs: [], StateChangeTimestamp: 1_700_000_000_000_000 }]);
    const missing = await h.ctl(['show', 'nope.cell']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toBe('Unit nope.cell could not be found.\n');
  });
});

describe('crtosctl show --timestamp', () => {
  it('prints timestamps in systemctl\'s styles, and refuses another', async () => {
    const at = async (style: string) => (await h.ctl(['show', `--timestamp=${style}`, '-p', 'LastReconcileTimestamp', '--value'])).stdout;
    expect(await at('us')).toBe('Tue 2023-11-14 22:13:20.000000 UTC\n');
    expect(await at('pretty')).toBe('Tue 2023-11-14 22:13:20 UTC\n');
    expect(await at('unix')).toBe('@1700000000\n');
    const bad = await h.ctl(['show', '--timestamp=iso']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--timestamp takes us, us+utc, pretty, utc, unix, not 'iso'");
  });
});

describe('formatTimestampAs', () => {
  // 2026-11-30 09:00:00.123456 UTC; 10:00 in a zone one hour east.
  const usec = Date.UTC(2026, 10, 30, 9, 0, 0) * 1000 + 123_456;
  it('keeps the microseconds unless asked for seconds, in local time or UTC', () => {
    expect(formatTimestampAs(usec, 'us')).toBe('Mon 2026-11-30 09:00:00.123456 UTC');
    expect(formatTimestampAs(usec, 'pretty')).toBe('Mon 2026-11-30 09:00:00 UTC');
    expect(formatTimestampAs(usec, 'unix')).toBe('@1796029200');
    expect(formatTimestampAs(usec + 7, 'us+utc')).toBe('Mon 2026-11-30 09:00:00.123463 UTC');
    expect(formatTimestampAs(0, 'us')).toBe('');
  });

  it('prints local time with its offset, and UTC for utc and us+utc', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Etc/GMT-1';
    try {
      expect(formatTimestampAs(usec, 'us')).toBe('Mon 2026-11-30 10:00:00.123456 +0100');
      expect(formatTimestampAs(usec, 'utc')).toBe('Mon 2026-11-30 09:00:00 UTC');
      expect(formatTimestampAs(usec, 'us+utc')).toBe('Mon 2026-11-30 09:00:00.123456 UTC');
    } finally {
      process.env.TZ = tz;
    }
  });
});

describe('formatValue', () => {
  it('formats values the way systemctl show does', () => {
    expect(formatValue('Requires', ['a.cell', 'b.driver'])).toBe('a.cell b.driver');
    expect(formatValue('Job', [3, '/org/crtos/job/3'])).toBe('3 /org/crtos/job/3');
    expect(formatValue('Job', [0, '/'])).toBe('');
    expect(formatValue('ActiveEnterTimestamp', 0)).toBe('');
    expect(formatValue('LastError', { code: 'ENGINE_TIMEOUT', message: 'too slow' })).toBe('ENGINE_TIMEOUT: too slow');
    expect(formatValue('Up', true)).toBe('yes');
  });
});
