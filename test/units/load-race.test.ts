/**
 * A unit file removed between listing its directory and reading it (an editor replacing it, a
 * package being removed): one UNIT_READ_FAILED naming the file, and the set refused. The removal
 * happens exactly in between by wrapping discoverUnitFiles, so nothing depends on timing.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUnits } from '../../src/units/load.js';
import type * as Discover from '../../src/units/discover.js';

const between = vi.hoisted(() => ({ run: undefined as (() => void) | undefined }));

vi.mock('../../src/units/discover.js', async (importOriginal) => {
  const real = await importOriginal<typeof Discover>();
  return {
    ...real,
    discoverUnitFiles: async (...args: Parameters<typeof real.discoverUnitFiles>) => {
      const found = await real.discoverUnitFiles(...args);
      between.run?.();
      return found;
    },
  };
});

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'crtos-race-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadUnits while files change', () => {
  it('a unit file removed after discovery: UNIT_READ_FAILED naming it, and no set', async () => {
    mkdirSync(join(tmp, 'units'));
    writeFileSync(join(tmp, 'units', 'a.yaml'), 'kind: Image\nname: a\npath: /a\n');
    writeFileSync(join(tmp, 'units', 'b.yaml'), 'kind: Image\nname: b\npath: /b\n');
    between.run = () => rmSync(join(tmp, 'units', 'b.yaml'));
    const r = await loadUnits({ directories: ['units'], cwd: tmp });
    expect(r.set).toBeUndefined();
    expect(r.problems).toEqual([
      {
        code: 'UNIT_READ_FAILED',
        file: join('units', 'b.yaml'),
        message: 'it disappeared while units were being loaded (ENOENT)',
        hint: 'it was removed or renamed after its directory was listed; load again once the files are in place',
      },
    ]);
  });

  it('a drop-in directory removed after its unit directory was listed', async () => {
    mkdirSync(join(tmp, 'dropins', 'a.image.d'), { recursive: true });
    writeFileSync(join(tmp, 'dropins', 'a.yaml'), 'kind: Image\nname: a\npath: /a\n');
    writeFileSync(join(tmp, 'dropins', 'a.image.d', '10-x.yaml'), 'description: x\n');
    between.run = () => rmSync(join(tmp, 'dropins', 'a.image.d'), { recursive: true });
    const r = await loadUnits({ directories: ['dropins'], cwd: tmp });
    expect(r.set).toBeUndefined();
    expect(r.problems).toEqual([expect.objectContaining({ code: 'UNIT_READ_FAILED', file: join('dropins', 'a.image.d', '10-x.yaml'), message: expect.stringMatching(/ENOENT/) })]);
  });
});
