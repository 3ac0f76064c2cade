import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctlInProcess } from './helpers/in-process.js';
import { repoRoot } from '../units/helpers.js';

const crtosctl = (args: string[], cwd = repoRoot) => ctlInProcess({ cwd }, ...args);

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'crtos-validate-'));
  cpSync(join(repoRoot, 'units/crtos'), join(tmp, 'broken'), { recursive: true });
  // three mistakes in two files plus a drop-in
  writeFileSync(join(tmp, 'broken/hello.yaml'), 'kind: Loader\nname: hello\nexec: [/opt/crtos/loader]\nrestart: on-faillure\nrequires: [nuttx.cell, shadw.driver]\n');
  mkdirSync(join(tmp, 'broken/nuttx.cell.d'));
  writeFileSync(join(tmp, 'broken/nuttx.cell.d/10-typo.yaml'), 'onFailur: restart\n');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('crtosctl validate', () => {
  it('exits 0 with a one-line summary for a valid set', async () => {
    const r = await crtosctl(['validate', '--units', 'units/crtos']);
    expect(r).toEqual({
      code: 0,
      stdout: '10 units valid (3 drivers, 1 hypervisor, 1 image, 1 cell, 1 network, 1 loader, 2 links) in units/crtos; 7 start layers\n',
      stderr: '',
    });
    // The hand-written flavour: no links, so the drivers start right after the hypervisor.
    expect(await crtosctl(['validate', '--units', 'units/crtos-handwritten'])).toEqual({
      code: 0,
      stdout: '8 units valid (3 drivers, 1 hypervisor, 1 image, 1 cell, 1 network, 1 loader) in units/crtos-handwritten; 6 start layers\n',
      stderr: '',
    });
  });

  it('exits 1 with every error, compiler style, quoting the line with a caret', async () => {
    const r = await crtosctl(['validate', '--units', 'broken'], tmp);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      [
        "broken/hello.yaml:4:10: error[UNIT_INVALID_VALUE]: 'restart' must be one of 'no', 'on-failure', 'always', not the string 'on-faillure' (hello.loader)",
        ' 4 | restart: on-faillure',
        '   |          ^',
        "  = hint: did you mean 'on-failure'?",
      ].join('\n'),
    );
    expect(r.stderr).toContain("broken/hello.yaml:5:24: error[UNIT_UNKNOWN_REFERENCE]: 'requires[1]' refers to 'shadw.driver', which does not exist (hello.loader)");
    expect(r.stderr).toContain("broken/nuttx.cell.d/10-typo.yaml:1:1: error[UNIT_UNKNOWN_FIELD]: unknown field 'onFailur' (nuttx.cell)");
    expect(r.stderr.trimEnd().split('\n').pop()).toBe('3 errors; the unit set is not valid');
  });

  it('prints JSON with --json', async () => {
    const r = await crtosctl(['validate', '--json', '--units=broken'], tmp);
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout);
    expect(body).toMatchObject({ valid: false, errors: 3, warnings: 0, units: [], layers: [] });
    expect(body.problems[0]).toEqual({
      severity: 'error',
      code: 'UNIT_INVALID_VALUE',
      message: "'restart' must be one of 'no', 'on-failure', 'always', not the string 'on-faillure'",
      file: 'broken/hello.yaml',
      line: 4,
      column: 10,
      unit: 'hello.loader',
      hint: "did you mean 'on-failure'?",
    });
    const ok = JSON.parse((await crtosctl(['validate', '--json', 'units/rtmux'])).stdout);
    expect(ok).toMatchObject({ valid: true, units: [{ id: 'rt-thread.image' }, { id: 'rtmux.hypervisor' }], layers: [['rt-thread.image'], ['rtmux.hypervisor']] });
  });

  it('checks files under --root', async () => {
    const r = await crtosctl(['validate', '--units', 'units/rtmux', '--root', tmp]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("units/rtmux/rtmux.yaml:14:9: error[UNIT_FILE_MISSING]: 'module' names /lib/modules/rtvmm.ko, which does not exist (rtmux.hypervisor)");
  });

  it("decides conditions and expands specifiers with the facts of the machine under --root", async () => {
    const dir = join(tmp, 'per-machine');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'u.yaml'),
      'kind: Driver\nname: imx\nmodule: imx\nconditions:\n  compatible: "fsl,*"\n---\nkind: Driver\nname: own\npath: /opt/%l/own.ko\n',
    );
    // A machine without a device tree, named box-1.
    const root = join(tmp, 'box-1');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/hostname'), 'box-1.lab\n');
    const r = await crtosctl(['validate', '--units', dir, '--root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'u.yaml')}:9:7: error[UNIT_FILE_MISSING]: 'path' names /opt/box-1/own.ko, which does not exist (own.driver)`);
    mkdirSync(join(root, 'opt/box-1'), { recursive: true });
    writeFileSync(join(root, 'opt/box-1/own.ko'), '');
    const ok = await crtosctl(['validate', '--units', dir, '--root', root]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('\n  imx.driver: condition failed: compatible "fsl,*" (compatible is none (no device tree))\n');
    const json = JSON.parse((await crtosctl(['validate', '--units', dir, '--root', root, '--json'])).stdout) as { units: { id: string; skipped?: string }[] };
    expect(json.units.map((u) => [u.id, u.skipped])).toEqual([
      ['imx.driver', 'condition failed: compatible "fsl,*" (compatible is none (no device tree))'],
      ['own.driver', undefined],
    ]);
  });

  it('exits 2 on bad usage', async () => {
    expect((await crtosctl(['validate', '--frobnicate'])).code).toBe(2);
    expect((await crtosctl(['validate', '--units'])).code).toBe(2);
    const missing = await crtosctl(['validate', '--units', 'no/such/dir']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('error[UNIT_DIRECTORY_MISSING]: unit directory no/such/dir does not exist')]);
    const help = await crtosctl(['validate', '--help']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('Usage: crtosctl validate')]);
  });

  it('works as the bundled command', () => {
    const ok = execFileSync(process.execPath, [join(repoRoot, 'dist/crtosctl.cjs'), 'validate', '--units', 'units/crtos'], { cwd: repoRoot, encoding: 'utf8' });
    expect(ok).toMatch(/^10 units valid/);
    const bad = spawnSync(process.execPath, [join(repoRoot, 'dist/crtosctl.cjs'), 'validate', '--units', join(tmp, 'broken')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
  });
});
