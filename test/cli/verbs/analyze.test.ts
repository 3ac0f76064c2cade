/**
 * `crtosctl analyze` through the real entry point and a real private bus, over the in-memory
 * manager: the µs timestamps and GetTimeline read over D-Bus and rendered; usage and exit codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';
import { crtosUnits } from '../../dbus/helpers/fake-manager.js';
import type { TransitionTimes, UnitStatus } from '../../../src/engine/manager-api.js';
import { parseFuzz } from '../../../src/cli/verbs/analyze.js';

const BOOT = 50_000_000;
const EPOCH = 1_764_493_200_000_000;

/** A unit that activated from `from` to `to` µs after BOOT, with the realtime the same instants plus EPOCH. */
function timed(u: UnitStatus, from: number, to: number, after: string[]): UnitStatus {
  const m: TransitionTimes = { stateChange: BOOT + to, inactiveExit: BOOT + from, activeEnter: BOOT + to, activeExit: 0, inactiveEnter: 0 };
  const r = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v ? v + EPOCH : 0])) as unknown as TransitionTimes;
  return { ...u, activeState: 'active', timestamps: { ...r, monotonic: m }, after, requires: after };
}

function units(): UnitStatus[] {
  const byId = new Map(crtosUnits().map((u) => [u.id, u]));
  return [
    timed(byId.get('jailhouse.driver')!, 0, 120_000, []),
    timed(byId.get('jailhouse.hypervisor')!, 120_000, 1_320_000, ['jailhouse.driver']),
    timed(byId.get('nuttx.image')!, 5_000, 30_000, []),
    timed(byId.get('nuttx.cell')!, 1_320_000, 2_820_000, ['jailhouse.hypervisor', 'nuttx.image']),
    { ...byId.get('shadow.driver')!, after: ['jailhouse.hypervisor'] },
  ];
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness(units());
  h.manager.operations = [
    { unit: 'nuttx.cell', job: 4, jobType: 'start', operation: 'createCell', detail: 'jailhouse cell create /etc/jailhouse/nuttx.cell', start: BOOT + 1_330_000, end: BOOT + 1_900_000, result: 'done' },
    { unit: 'nuttx.cell', job: 4, jobType: 'start', operation: 'probeTcp', detail: '127.0.0.1 4242 500', start: BOOT + 2_000_000, end: BOOT + 2_800_000, result: 'done' },
  ];
});
afterAll(() => h?.stop());

describe('crtosctl analyze', () => {
  it('blame: the units by activation time, slowest first', async () => {
    const r = await h.ctl(['analyze', 'blame']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('1.500s nuttx.cell\n1.200s jailhouse.hypervisor\n 120ms jailhouse.driver\n  25ms nuttx.image\n');
  });

  it('critical-chain: of the unit that became active last by default, of the units given otherwise', async () => {
    const r = await h.ctl(['analyze', 'critical-chain'], { env: { LC_ALL: 'C' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'The time when unit became active or started is printed after the "@" character.\nThe time the unit took to start is printed after the "+" character.\n\n' +
        'nuttx.cell +1.500s\n`-jailhouse.hypervisor @1.320s +1.200s\n  `-jailhouse.driver @120ms +120ms\n',
    );
    const one = await h.ctl(['analyze', 'critical-chain', 'jailhouse.hypervisor'], { env: { LC_ALL: 'C' } });
    expect(one.stdout.split('\n').slice(3)).toEqual(['jailhouse.hypervisor +1.200s', '`-jailhouse.driver @120ms +120ms', '']);
  });

  it('critical-chain draws its tree in box-drawing glyphs when the locale is UTF-8, with or without a terminal, as systemd-analyze does', async () => {
    const tail = async (env: NodeJS.ProcessEnv, color = false) => (await h.ctl(['analyze', 'critical-chain', 'nuttx.cell'], { env, color })).stdout.split('\n').slice(4, 5)[0];
    expect(await tail({ LC_ALL: 'C.UTF-8' })).toBe('└─jailhouse.hypervisor @1.320s +1.200s');
    expect(await tail({ LC_ALL: '', LC_CTYPE: '', LANG: 'en_GB.utf8' })).toBe('└─jailhouse.hypervisor @1.320s +1.200s');
    expect(await tail({ LC_ALL: 'POSIX' }, true)).toBe('`-\x1b[1;31mjailhouse.hypervisor @1.320s +1.200s\x1b[0m');
    expect(await tail({ LC_ALL: 'C.UTF-8', SYSTEMD_UTF8: '0' })).toBe('`-jailhouse.hypervisor @1.320s +1.200s');
  });

  it('critical-chain of a unit crtosd does not have exits 4', async () => {
    const r = await h.ctl(['analyze', 'critical-chain', 'nope.cell']);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('Unit nope.cell could not be found.\n');
  });

  it('dot: the graph on stdout, the colour legend on stderr', async () => {
    const r = await h.ctl(['analyze', 'dot', '--order']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.includes('->'))).toEqual([
      '\t"jailhouse.hypervisor"->"jailhouse.driver" [color="green"];',
      '\t"nuttx.cell"->"jailhouse.hypervisor" [color="green"];',
      '\t"nuttx.cell"->"nuttx.image" [color="green"];',
      '\t"shadow.driver"->"jailhouse.hypervisor" [color="green"];',
    ]);
    expect(r.stderr).toContain('green     = After');
  });

  it('plot: an SVG with every unit a bar and the operations GetTimeline returned', async () => {
    const r = await h.ctl(['analyze', 'plot']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('<?xml')).toBe(true);
    expect([...r.stdout.matchAll(/class="unit[ "][^>]*data-unit="([^"]+)"/g)].map((m) => m[1]).sort()).toEqual([
      'jailhouse.driver',
      'jailhouse.hypervisor',
      'nuttx.cell',
      'nuttx.image',
      'shadow.driver',
    ]);
    expect(r.stdout.match(/class="operation"/g)).toHaveLength(2);
    expect(r.stdout).toContain('probeTcp 127.0.0.1 4242 500: @2s +800ms');
  });

  it('--json: the data the views are made from, the realtime of the start from the first unit', async () => {
    const r = await h.ctl(['analyze', 'blame', '--json']);
    const data = JSON.parse(r.stdout) as { units: { id: string; activating: number; time: number }[]; operations: unknown[]; originRealtime: number };
    expect(data.units.find((u) => u.id === 'nuttx.cell')).toMatchObject({ activating: BOOT + 1_320_000, time: 1_500_000 });
    expect(data.operations).toHaveLength(2);
    expect(data.originRealtime).toBe(EPOCH + BOOT);
  });

  it('usage errors exit 2', async () => {
    expect((await h.ctl(['analyze'])).code).toBe(2);
    const bad = await h.ctl(['analyze', 'time']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown analyze verb 'time'");
    expect((await h.ctl(['analyze', 'dot', '--order', '--require'])).code).toBe(2);
    expect((await h.ctl(['analyze', 'critical-chain', '--fuzz', 'soon'])).code).toBe(2);
  });

  it('--fuzz takes systemd time spans; a bare number is seconds', () => {
    expect(parseFuzz('100ms')).toBe(100_000);
    expect(parseFuzz('2')).toBe(2_000_000);
    expect(parseFuzz('1.5s')).toBe(1_500_000);
    expect(parseFuzz('250us')).toBe(250);
    expect(parseFuzz('1min 30s')).toBe(90_000_000);
  });
});
