/**
 * `crtosctl validate --facts`: the cRTOS tree, its system configuration chosen per machine with
 * %H, checked for several machines from their facts files against one shipped file tree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctlInProcess } from '../helpers/in-process.js';
import { factsYaml } from '../../../src/facts/render.js';
import type { MachineFacts } from '../../../src/facts/types.js';
import { repoRoot } from '../../units/helpers.js';
import { tempMachine } from '../../sim/helpers.js';
import { destroySimMachine, type SimMachine } from '../../../src/sim/index.js';

const crtosctl = (args: string[], cwd: string) => ctlInProcess({ cwd }, ...args);

/** An x86 cRTOS box as `crtosctl facts` shows the simulated one (the hypervisor's memory reserved). */
const x86 = (hostname: string): MachineFacts => ({
  crtosFactsVersion: 1,
  hostname,
  machineId: '',
  architecture: 'x86-64',
  cpus: { count: 4, online: '0-3' },
  memory: { total: 8489271296, systemRam: ['0x00000000-0x39ffffff', '0x40000000-0x1ffffffff'] },
  kernel: { release: '5.4.0-crtos-sim', commandLine: 'memmap=0x6000000$0x3a000000' },
  board: { vendor: 'Supermicro', product: 'C7X99-OCE-F', id: 'supermicro-c7x99-oce-f' },
  jailhouse: { present: true, enabled: false, revision: 12, arch: 'x86' },
  remoteproc: [],
});

const arm: MachineFacts = {
  ...x86('gateway'),
  architecture: 'arm64',
  memory: { total: 1024 ** 3 },
  board: { model: 'linux,dummy-virt', compatible: ['linux,dummy-virt'], id: 'linux,dummy-virt' },
  jailhouse: { present: false, enabled: false },
};

let tmp: string;
let files: SimMachine;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'crtos-fleet-'));
  // The files shipped with the units: the simulated machine's, with a system configuration for
  // crtos-a and crtos-b only.
  files = await tempMachine();
  for (const host of ['crtos-a', 'crtos-b']) copyFileSync(join(files.dir, 'etc/jailhouse/sysconfig-base.cell'), join(files.dir, `etc/jailhouse/${host}.cell`));
  cpSync(join(repoRoot, 'units/crtos'), join(tmp, 'units'), { recursive: true });
  const hv = join(tmp, 'units/jailhouse.yaml');
  writeFileSync(hv, readFileSync(hv, 'utf8').replace('system: /etc/jailhouse/sysconfig-base.cell', 'system: /etc/jailhouse/%H.cell'));
  // Jailhouse only on x86: on the arm gateway every unit of the tree is skipped with it.
  mkdirSync(join(tmp, 'units/jailhouse.driver.d'));
  writeFileSync(join(tmp, 'units/jailhouse.driver.d/10-x86.yaml'), 'conditions:\n  architecture: x86-64\n');
  mkdirSync(join(tmp, 'facts'));
  for (const f of [x86('crtos-a'), x86('crtos-b'), x86('crtos-c'), arm]) writeFileSync(join(tmp, 'facts', `${f.hostname}.yaml`), factsYaml(f));
}, 30_000);
afterAll(async () => {
  await destroySimMachine(files.dir);
  rmSync(tmp, { recursive: true, force: true });
});

describe('crtosctl validate --facts', () => {
  it('checks each machine, prints a table, reports a file missing on one machine for that machine only, exits 1', async () => {
    const r = await crtosctl(['validate', '--units', 'units', '--root', files.dir, '--facts', 'facts'], tmp);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      [
        'MACHINE  FACTS               APPLIED  SKIPPED  ERRORS  WARNINGS',
        'crtos-a  facts/crtos-a.yaml  10       0        0       0',
        'crtos-b  facts/crtos-b.yaml  10       0        0       0',
        'crtos-c  facts/crtos-c.yaml  10       0        1       0',
        // The image requires nothing: it applies everywhere (and does nothing by itself).
        'gateway  facts/gateway.yaml  1        9        0       0',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toContain(
      "\ncrtos-c (facts/crtos-c.yaml): 1 error\nunits/jailhouse.yaml:15:9: error[UNIT_FILE_MISSING]: 'system' names /etc/jailhouse/crtos-c.cell, which does not exist (jailhouse.hypervisor)\n",
    );
    expect(r.stderr).not.toContain('crtos-a.cell');
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('not valid on crtos-c');
  });

  it('with --json: per machine, what applies, what is skipped and why, and each problem with its file and line', async () => {
    const r = await crtosctl(['validate', '--units', 'units', '--root', files.dir, '--facts', 'facts/crtos-c.yaml', '--facts', 'facts/gateway.yaml', '--json'], tmp);
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout) as { valid: boolean; machines: { machine: string; valid: boolean; applied: string[]; skipped: { id: string; reason: string }[]; problems: { code: string; file: string; line: number; unit: string }[] }[] };
    expect(body.valid).toBe(false);
    expect(body.machines.map((m) => [m.machine, m.valid, m.applied.length, m.skipped.length])).toEqual([
      ['crtos-c', false, 10, 0],
      ['gateway', true, 1, 9],
    ]);
    expect(body.machines[1]!.applied).toEqual(['nuttx.image']);
    expect(body.machines[0]!.problems).toEqual([expect.objectContaining({ code: 'UNIT_FILE_MISSING', file: 'units/jailhouse.yaml', line: 15, unit: 'jailhouse.hypervisor' })]);
    expect(body.machines[1]!.skipped).toContainEqual({ id: 'jailhouse.driver', reason: 'condition failed: architecture "x86-64" (architecture is arm64)' });
    expect(body.machines[1]!.skipped).toContainEqual({ id: 'jailhouse.hypervisor', reason: 'skipped: requires jailhouse.driver, whose condition failed' });
  });

  it('exits 0 when every machine passes', async () => {
    const r = await crtosctl(['validate', '--units', 'units', '--root', files.dir, '--facts', 'facts/crtos-a.yaml', '--facts', 'facts/crtos-b.yaml'], tmp);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('valid on 2 machines');
  });

  it('without --root, warns at a pathExists condition it cannot decide for a machine, unless its facts file says', async () => {
    mkdirSync(join(tmp, 'rpmsg'));
    writeFileSync(join(tmp, 'rpmsg/echo.yaml'), 'kind: Loader\nname: echo\nexec: [/opt/echo]\nconditions:\n  pathExists: /dev/rpmsg_ctrl0\n');
    writeFileSync(join(tmp, 'without.yaml'), factsYaml({ ...x86('without'), paths: { '/dev/rpmsg_ctrl0': false } }));
    const r = await crtosctl(['validate', '--units', 'rpmsg', '--facts', 'facts/crtos-a.yaml', '--facts', 'without.yaml'], tmp);
    // A warning is no failure: the unit was checked as if it applies.
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'MACHINE  FACTS               APPLIED  SKIPPED  ERRORS  WARNINGS',
        'crtos-a  facts/crtos-a.yaml  1        0        0       1',
        'without  without.yaml        0        1        0       0',
        'valid on 2 machines',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toBe(
      [
        '',
        'crtos-a (facts/crtos-a.yaml): 0 errors, 1 warning',
        'rpmsg/echo.yaml:5:15: warning[FACTS_PATH_UNKNOWN]: condition pathExists "/dev/rpmsg_ctrl0" cannot be decided from the facts: taken as met, so echo.loader is checked as if it applies (echo.loader)',
        ' 5 |   pathExists: /dev/rpmsg_ctrl0',
        '   |               ^',
        '  = hint: say in the machine\'s facts file whether /dev/rpmsg_ctrl0 exists there (paths: {"/dev/rpmsg_ctrl0": true}; `crtosctl facts --path /dev/rpmsg_ctrl0` adds it), or give --root DIR to look it up under DIR',
        '',
      ].join('\n'),
    );
  });

  it('reports a bad facts file by its name and line, beside the machines that could be read', async () => {
    writeFileSync(join(tmp, 'broken.yaml'), factsYaml(x86('x')).replace('count: 4', 'count: "4"'));
    const r = await crtosctl(['validate', '--units', 'units', '--facts', 'broken.yaml', '--facts', 'facts/crtos-a.yaml'], tmp);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^broken\.yaml:\d+:\d+: error\[FACTS_INVALID\]: 'cpus\.count' /m);
    expect(r.stdout).toContain('crtos-a  facts/crtos-a.yaml');
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('not valid: 1 error in the unit or facts files');
  });
});
