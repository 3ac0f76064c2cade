/**
 * The transaction check's generic passes, read from what the kinds declare: files named exist,
 * device nodes handed to a unit exist or are provided by another, pinned files have their sha256.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTransaction, machineFilesUnder } from '../../src/transaction/check.js';
import { build } from '../units/helpers.js';

function machineRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'crtos-transaction-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

async function check(units: string, root: string) {
  const files = { 'u.yaml': units };
  const r = build(files);
  expect(r.problems.filter((p) => p.severity !== 'warning')).toEqual([]);
  return checkTransaction({ set: r.set!, sources: new Map(Object.entries(files)), machine: machineFilesUnder(root) });
}

const LOADER = 'kind: Loader\nname: l\nexec: [/opt/loader]\nenvironment: { DEV: /dev/uio7 }\n';

describe('checkTransaction', () => {
  it('refuses a device node a unit is handed that neither exists nor is provided, at its field', async () => {
    const problems = await check(LOADER, machineRoot({ 'opt/loader': '' }));
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'UNIT_FILE_MISSING',
        unit: 'l.loader',
        message: "'environment.DEV' names the device /dev/uio7, which does not exist and no Driver or Link unit provides",
        hint: 'add it to `provides:` of the Driver or Link that creates it, or correct the path',
        line: 4,
      }),
    ]);
  });

  it('takes a device node another unit provides as there', async () => {
    const driver = '---\nkind: Driver\nname: uio\nmodule: uio\nprovides: /dev/uio7\n';
    expect(await check(LOADER + driver, machineRoot({ 'opt/loader': '' }))).toEqual([]);
  });

  it('refuses a pinned file with other bytes at the pin, and a missing named file at its field', async () => {
    const pinned = createHash('sha256').update('the image').digest('hex');
    const units = `kind: Image\nname: a\npath: /opt/a.bin\nsha256: ${pinned}\n---\nkind: Image\nname: b\npath: /opt/b.bin\n`;
    const problems = await check(units, machineRoot({ 'opt/a.bin': 'other bytes' }));
    expect(problems.map((p) => [p.code, p.unit, p.line])).toEqual([
      ['UNIT_FILE_MISSING', 'b.image', 8],
      ['UNIT_IMAGE_MISMATCH', 'a.image', 4],
    ]);
    expect(await check(units.replace(pinned, createHash('sha256').update('other bytes').digest('hex')), machineRoot({ 'opt/a.bin': 'other bytes', 'opt/b.bin': '' }))).toEqual([]);
  });
});
