/**
 * units/fleet: one unit tree for three kinds of machine, checked offline against their facts files
 * and brought up by a real crtosd on each kind's simulated machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FLEET_ARM64_DESCRIPTION, LINUX_ONLY_DESCRIPTION } from '../../src/sim/fleet-examples.js';
import type { MachineDescription } from '../../src/sim/index.js';
import { loadUnits } from '../../src/units/load.js';
import { ctlInProcess } from '../cli/helpers/in-process.js';
import { runOnce } from '../daemon/run.js';
import { makeFixture, type Fixture } from '../engine/harness.js';
import { repoRoot } from '../units/helpers.js';

const FLEET = join(repoRoot, 'units/fleet');
const FACTS = join(FLEET, 'facts');

interface Kind {
  facts: string;
  hostname: string;
  description: Partial<MachineDescription>;
  /** The machine's board id (%b), as its facts file gives it. */
  board: string;
  active: string[];
  /** Inactive because their own conditions fail. */
  conditionFailed: string[];
  /** Inactive because a unit they require is. */
  skipped: string[];
}

const X86_UNITS = ['shadow.link', 'crtos-net.link', 'nuttx.image', 'nuttx.cell'];
const X86_DEPENDENTS = ['shadow.driver', 'ivshmem-net.driver', 'crtos-link.network', 'hello.loader'];
const RT_BOARD_UNITS = ['freertos.image', 'freertos.cell', 'zephyr.image', 'zephyr.cell'];
const JAILHOUSE = ['jailhouse.driver', 'jailhouse.hypervisor'];

const KINDS: Kind[] = [
  {
    facts: 'crtos-x86.yaml',
    hostname: 'crtos-sim',
    description: {},
    board: 'supermicro-c7x99-oce-f',
    active: [...JAILHOUSE, ...X86_UNITS, ...X86_DEPENDENTS],
    conditionFailed: [...RT_BOARD_UNITS, 'telemetry.loader'],
    skipped: [],
  },
  {
    facts: 'arm64-board.yaml',
    hostname: 'rt-board-01',
    description: FLEET_ARM64_DESCRIPTION,
    board: 'example,rt-board',
    active: [...JAILHOUSE, ...RT_BOARD_UNITS],
    conditionFailed: [...X86_UNITS, 'telemetry.loader'],
    skipped: X86_DEPENDENTS,
  },
  {
    facts: 'linux-only.yaml',
    hostname: 'gateway-01',
    description: LINUX_ONLY_DESCRIPTION,
    board: 'example,gateway',
    active: ['telemetry.loader'],
    conditionFailed: ['jailhouse.driver', ...X86_UNITS, ...RT_BOARD_UNITS],
    skipped: ['jailhouse.hypervisor', ...X86_DEPENDENTS],
  },
];

/** What `crtosctl validate --facts --json` prints (the fields read here). */
interface FleetReport {
  valid: boolean;
  machines: { machine: string; factsFile: string; valid: boolean; applied: string[]; skipped: { id: string; reason: string }[]; errors: number; warnings: number; problems: Record<string, unknown>[] }[];
}

let work: string;
/** The files shipped beside the units, one tree for every machine (`validate --root`). */
let files: string;
const fixtures = new Map<string, Fixture>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'crtos-fleet-'));
  // The daemon reads a copy of the unit files (makeFixture points the x86 cell's readiness probe
  // at the simulated NuttX's loopback endpoint); the facts files stay behind.
  const units = join(work, 'units');
  mkdirSync(units);
  for (const f of readdirSync(FLEET)) if (f.endsWith('.yaml')) copyFileSync(join(FLEET, f), join(units, f));
  files = join(work, 'files');
  for (const kind of KINDS) {
    const f = await makeFixture({ description: kind.description, units });
    fixtures.set(kind.facts, f);
    // The x86 box's system configuration is what `jailhouse config create` made on it, installed
    // under its board id; the arm64 board's files come with the simulated board.
    if (kind.facts === 'crtos-x86.yaml') copyFileSync(join(f.machine.dir, 'etc/jailhouse/sysconfig-base.cell'), join(f.machine.dir, `etc/jailhouse/${kind.board}.cell`));
    for (const sub of ['etc/jailhouse', 'opt']) if (existsSync(join(f.machine.dir, sub))) cpSync(join(f.machine.dir, sub), join(files, sub), { recursive: true });
  }
}, 60_000);

afterAll(async () => {
  for (const f of fixtures.values()) {
    await f.cleanup();
    rmSync(f.dir, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
});

/** A facts document without what changes while a machine runs (CPUs online, Jailhouse enabled, processor states). */
function stable(text: string): unknown {
  const facts = parse(text) as { cpus?: { online?: unknown }; jailhouse?: { enabled?: unknown }; remoteproc?: { state?: unknown }[] };
  delete facts.cpus?.online;
  delete facts.jailhouse?.enabled;
  for (const p of facts.remoteproc ?? []) delete p.state;
  return facts;
}

describe('units/fleet', () => {
  it.each(KINDS)("facts/$facts is what `crtosctl facts` prints on that machine", async (kind) => {
    const r = await ctlInProcess('facts', '--root', fixtures.get(kind.facts)!.machine.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(stable(readFileSync(join(FACTS, kind.facts), 'utf8'))).toEqual(stable(r.stdout));
    expect((parse(r.stdout) as { board: { id: string } }).board.id).toBe(kind.board);
  });

  it('validate --facts checks the tree for every machine: each applies its own units, skips the others saying why, and all are valid', async () => {
    const r = await ctlInProcess('validate', '--units', FLEET, '--facts', FACTS, '--root', files, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as FleetReport;
    expect(report.valid).toBe(true);
    expect(report.machines.map((m) => m.machine).sort()).toEqual(KINDS.map((k) => k.hostname).sort());
    for (const kind of KINDS) {
      const m = report.machines.find((x) => x.machine === kind.hostname)!;
      expect([m.factsFile, m.valid, m.errors, m.warnings, m.problems]).toEqual([join(FACTS, kind.facts), true, 0, 0, []]);
      expect([...m.applied].sort()).toEqual([...kind.active].sort());
      expect(Object.fromEntries(m.skipped.map((u) => [u.id, u.reason.replace(/:.*/, '')]))).toEqual(
        Object.fromEntries([...kind.conditionFailed.map((id) => [id, 'condition failed']), ...kind.skipped.map((id) => [id, 'skipped'])]),
      );
    }
    const gateway = report.machines.find((x) => x.machine === 'gateway-01')!;
    expect(gateway.skipped.find((u) => u.id === 'jailhouse.driver')!.reason).toBe('condition failed: compatible "!example,gateway*" (compatible is "example,gateway", "example,a55-soc")');
    expect(gateway.skipped.find((u) => u.id === 'jailhouse.hypervisor')!.reason).toBe('skipped: requires jailhouse.driver, whose condition failed');

    // The table CI logs show: one row per machine with its counts.
    const table = await ctlInProcess('validate', '--units', FLEET, '--facts', FACTS, '--root', files);
    expect(table.code).toBe(0);
    const rows = table.stdout.split('\n').map((line) => line.split(/\s+/));
    for (const kind of KINDS) {
      const total = kind.active.length + kind.conditionFailed.length + kind.skipped.length;
      expect(rows.find((row) => row[0] === kind.hostname)).toEqual([kind.hostname, join(FACTS, kind.facts), String(kind.active.length), String(total - kind.active.length), '0', '0']);
    }
  });

  it("a per-board file missing from the shipped tree fails that board only, at the unit's line", async () => {
    const broken = join(work, 'broken-files');
    cpSync(files, broken, { recursive: true });
    rmSync(join(broken, 'etc/jailhouse/example,rt-board/zephyr.cell'));
    const r = await ctlInProcess('validate', '--units', FLEET, '--facts', FACTS, '--root', broken, '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as FleetReport;
    expect(report.valid).toBe(false);
    expect(Object.fromEntries(report.machines.map((m) => [m.machine, m.valid]))).toEqual({ 'crtos-sim': true, 'rt-board-01': false, 'gateway-01': true });
    const line = readFileSync(join(FLEET, 'rt-board.yaml'), 'utf8').split('\n').indexOf('config: /etc/jailhouse/%b/zephyr.cell') + 1;
    expect(line).toBeGreaterThan(0);
    const board = report.machines.find((m) => m.machine === 'rt-board-01')!;
    expect(board.problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'UNIT_FILE_MISSING',
        unit: 'zephyr.cell',
        file: join(FLEET, 'rt-board.yaml'),
        line,
        column: 9,
        message: "'config' names /etc/jailhouse/example,rt-board/zephyr.cell, which does not exist",
      }),
    ]);
  });

  it.each(KINDS)('on the $facts machine, crtosd brings up the units whose conditions hold and leaves the others inactive', async (kind) => {
    const r = await runOnce(fixtures.get(kind.facts)!);
    const rows = new Map(
      r.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => {
          const [id, active, sub] = line.split(/\s+/);
          return [id!, `${active} ${sub}`];
        }),
    );
    const expected = new Map([
      ...kind.active.map((id) => [id, expect.stringMatching(/^active /)] as const),
      ...kind.conditionFailed.map((id) => [id, 'inactive condition-failed'] as const),
      ...kind.skipped.map((id) => [id, 'inactive skipped'] as const),
    ]);
    expect(Object.fromEntries(rows), r.stderr).toEqual(Object.fromEntries(expected));
    expect(r.code, r.stderr).toBe(0);
    // The log says why each is inactive.
    const why = new Map(
      r.stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { unit?: string; msg: string })
        .filter((l) => l.unit !== undefined && /^(condition failed|skipped): /.test(l.msg))
        .map((l) => [l.unit!, l.msg.replace(/:.*/, '')]),
    );
    expect(Object.fromEntries(why)).toEqual(Object.fromEntries([...kind.conditionFailed.map((id) => [id, 'condition failed']), ...kind.skipped.map((id) => [id, 'skipped'])]));
  });

  it('loads the same from a Kubernetes ConfigMap volume: files are symlinks through ..data into a hidden timestamped directory', async () => {
    const volume = join(work, 'configmap');
    const revision = join(volume, '..2026_11_30_09_00_00.000000001');
    mkdirSync(revision, { recursive: true });
    symlinkSync('..2026_11_30_09_00_00.000000001', join(volume, '..data'));
    for (const f of readdirSync(FLEET)) {
      if (!f.endsWith('.yaml')) continue;
      copyFileSync(join(FLEET, f), join(revision, f));
      symlinkSync(`..data/${f}`, join(volume, f));
    }
    const shipped = await loadUnits({ directories: [FLEET] });
    const mounted = await loadUnits({ directories: [volume] });
    expect(mounted.problems).toEqual([]);
    expect([...mounted.set!.units.keys()].sort()).toEqual([...shipped.set!.units.keys()].sort());
  });
});
