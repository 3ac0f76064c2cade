/**
 * `pathExists` on a machine known by its facts (a fleet's facts file): answered by the facts'
 * `paths`, else by the machine's files; with neither it cannot be decided, is taken as met (the unit
 * is checked) and reported as a warning at the condition, once per unit that applies.
 */
import { describe, expect, it } from 'vitest';
import { checkOnMachine } from '../../src/conditions/check-on-machine.js';
import type { MachineFiles } from '../../src/transaction/check.js';
import type { Problem } from '../../src/errors/problem.js';
import { build } from '../units/helpers.js';
import { facts } from './facts-fixture.js';

const TREE = `kind: Loader
name: rpmsg-echo
exec: [/opt/echo]
conditions:
  pathExists: /dev/rpmsg_ctrl0
---
kind: Loader
name: two
exec: [/opt/two]
conditions:
  pathExists: [/etc/a, "!/etc/b"]
---
kind: Loader
name: x86-only
exec: [/opt/x86]
conditions:
  architecture: x86-64
  pathExists: /dev/x
---
kind: Driver
name: gone
module: gone
conditions:
  compatible: "ti,*"
---
kind: Loader
name: needs-gone
exec: [/opt/n]
requires: [gone.driver]
conditions:
  pathExists: /dev/y
`;

const { set } = build({ 'u.yaml': TREE });
const sources = new Map([['u.yaml', TREE]]);

/** A machine whose files hold exactly `present`. */
const filesWith = (...present: string[]): MachineFiles => ({
  read: () => Promise.reject(new Error('not read by conditions')),
  exists: (p) => Promise.resolve(present.includes(p)),
});

const warnings = (problems: Problem[]) => problems.filter((p) => p.code === 'FACTS_PATH_UNKNOWN');

describe('pathExists on a machine known by its facts', () => {
  it('without files or paths: taken as met, each undecided condition a warning at its value, for units that apply only', async () => {
    const r = await checkOnMachine({ set: set!, sources, machine: undefined, facts: facts() });
    expect(r.machineSet.skipped.has('rpmsg-echo.loader')).toBe(false);
    expect(r.machineSet.skipped.has('two.loader')).toBe(false);
    expect([...r.machineSet.undecided]).toEqual([
      ['rpmsg-echo.loader', ['/dev/rpmsg_ctrl0']],
      ['two.loader', ['/etc/a', '!/etc/b']],
    ]);
    // x86-only.loader fails its architecture, needs-gone.loader requires a skipped unit: nothing to decide there.
    expect(warnings(r.problems).map((p) => [p.unit, p.file, p.line, p.column, p.severity])).toEqual([
      ['rpmsg-echo.loader', 'u.yaml', 5, 15, 'warning'],
      ['two.loader', 'u.yaml', 11, 16, 'warning'],
      ['two.loader', 'u.yaml', 11, 24, 'warning'],
    ]);
    expect(r.problems[0]).toMatchObject({
      message: 'condition pathExists "/dev/rpmsg_ctrl0" cannot be decided from the facts: taken as met, so rpmsg-echo.loader is checked as if it applies',
      hint: 'say in the machine\'s facts file whether /dev/rpmsg_ctrl0 exists there (paths: {"/dev/rpmsg_ctrl0": true}; `crtosctl facts --path /dev/rpmsg_ctrl0` adds it), or give --root DIR to look it up under DIR',
    });
  });

  it("decides from the facts' paths: a path that is not there fails the condition, with no warning", async () => {
    const r = await checkOnMachine({ set: set!, sources, machine: undefined, facts: facts({ paths: { '/dev/rpmsg_ctrl0': false, '/etc/a': true, '/etc/b': true } }) });
    expect(r.machineSet.skipped.get('rpmsg-echo.loader')?.text).toBe('condition failed: pathExists "/dev/rpmsg_ctrl0" (/dev/rpmsg_ctrl0 does not exist)');
    expect(r.machineSet.skipped.get('two.loader')?.text).toBe('condition failed: pathExists "!/etc/b" (/etc/b exists)');
    expect(warnings(r.problems)).toEqual([]);
  });

  it("decides from the machine's files, the facts' paths first", async () => {
    const r = await checkOnMachine({ set: set!, sources, machine: filesWith('/dev/rpmsg_ctrl0', '/etc/b'), facts: facts({ paths: { '/etc/b': false } }) });
    expect(r.machineSet.skipped.has('rpmsg-echo.loader')).toBe(false);
    // /etc/a is not in the files; /etc/b is, but the facts say it is not there.
    expect(r.machineSet.skipped.get('two.loader')?.text).toBe('condition failed: pathExists "/etc/a" (/etc/a does not exist)');
    expect(r.machineSet.undecided.size).toBe(0);
    expect(warnings(r.problems)).toEqual([]);
  });
});
