import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ctlInProcess } from '../helpers/in-process.js';
import { parseFactsFile } from '../../../src/facts/parse.js';
import { destroySimMachine, type SimMachine } from '../../../src/sim/index.js';
import { tempMachine } from '../../sim/helpers.js';
import { repoRoot } from '../../units/helpers.js';

const crtosctl = (args: string[]) => ctlInProcess({ cwd: repoRoot }, ...args);

let m: SimMachine;
beforeAll(async () => {
  m = await tempMachine({ identity: { hostname: 'crtos-7', machineId: 'abcdefabcdefabcdefabcdefabcdef01' } });
});
afterAll(() => destroySimMachine(m.dir));

describe('crtosctl facts', () => {
  it('prints YAML that is a facts file, and the same as JSON', async () => {
    const yaml = await crtosctl(['facts', '--root', m.dir]);
    expect(yaml.code).toBe(0);
    const parsed = parseFactsFile('out.yaml', yaml.stdout);
    expect(parsed.problems).toEqual([]);
    expect(parsed.facts).toMatchObject({ hostname: 'crtos-7', machineId: 'abcdefabcdefabcdefabcdefabcdef01', architecture: 'x86-64', cpus: { count: 4 } });
    const json = await crtosctl(['facts', '--root', m.dir, '--json']);
    expect(JSON.parse(json.stdout)).toEqual(parsed.facts);
  });

  it('with --path, records whether each path exists there, for pathExists conditions', async () => {
    const r = await crtosctl(['facts', '--root', m.dir, '--path', '/etc/hostname', '--path', '/dev/rpmsg_ctrl0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('paths:\n  /dev/rpmsg_ctrl0: false\n  /etc/hostname: true\n');
    expect(parseFactsFile('out.yaml', r.stdout).facts?.paths).toEqual({ '/dev/rpmsg_ctrl0': false, '/etc/hostname': true });
    const relative = await crtosctl(['facts', '--path', 'dev/x']);
    expect(relative.code).toBe(2);
    expect(relative.stderr).toContain("--path takes a machine path, which is absolute, not 'dev/x'");
  });

  it('takes no operands', async () => {
    const r = await crtosctl(['facts', 'extra']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("takes no arguments, not 'extra'");
  });

  it('works as the bundled command', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist/crtosctl.cjs'), 'facts', '--root', m.dir], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('hostname: crtos-7\n');
  });
});
