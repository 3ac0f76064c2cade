import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../helpers/harness.js';
import { makeUnit } from '../../dbus/helpers/fake-manager.js';

let h: Harness;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crtos-cat-'));
  mkdirSync(join(dir, 'nuttx.cell.d'));
  writeFileSync(join(dir, 'nuttx.yaml'), 'kind: Cell\nname: nuttx\n');
  writeFileSync(join(dir, 'nuttx.cell.d', '50-loopback.yaml'), 'ready: { tcp: "127.0.0.1:4242" }');
  h = await startHarness([
    makeUnit('nuttx.cell', { kind: 'Cell', cellId: 1, jailhouseState: 'running', cpus: [2, 3], failedCpus: [], configPath: '/c' }, {
      sourcePath: join(dir, 'nuttx.yaml'),
      dropInPaths: [join(dir, 'nuttx.cell.d', '50-loopback.yaml')],
    }),
    makeUnit('gone.image', { kind: 'Image', path: '/x', sha256: '' }, { sourcePath: join(dir, 'missing.yaml') }),
  ]);
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('crtosctl cat', () => {
  it('prints the unit file and its drop-ins under # path comments', async () => {
    const r = await h.ctl(['cat', 'nuttx.cell']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`# ${dir}/nuttx.yaml\nkind: Cell\nname: nuttx\n\n# ${dir}/nuttx.cell.d/50-loopback.yaml\nready: { tcp: "127.0.0.1:4242" }\n`);
  });

  it('says which file it cannot read and exits 1', async () => {
    const r = await h.ctl(['cat', 'gone.image']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`# ${dir}/missing.yaml\n# (cannot read: ENOENT)\n`);
  });

  it('prints files as JSON and exits 4 for an unknown unit', async () => {
    const r = await h.ctl(['cat', '--json', 'nuttx.cell']);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        unit: 'nuttx.cell',
        files: [
          { path: `${dir}/nuttx.yaml`, content: 'kind: Cell\nname: nuttx\n' },
          { path: `${dir}/nuttx.cell.d/50-loopback.yaml`, content: 'ready: { tcp: "127.0.0.1:4242" }' },
        ],
      },
    ]);
    const missing = await h.ctl(['cat', 'nope.cell']);
    expect(missing).toMatchObject({ code: 1, stderr: 'No files found for nope.cell.\n' });
  });
});
