import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readUnitFile } from '../../src/units/read-unit-file.js';
import { MAX_FILE_BYTES } from '../../src/units/limits.js';

let tmp: string;
const at = (name: string): string => join(tmp, name);

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'crtos-read-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readUnitFile', () => {
  it('reads a unit file as text, up to exactly the size limit', async () => {
    const unit = 'kind: Image\nname: x\npath: /x\n';
    writeFileSync(at('full.yaml'), unit + '#'.repeat(MAX_FILE_BYTES - unit.length));
    const read = await readUnitFile('full.yaml', at('full.yaml'));
    expect(read.problem).toBeUndefined();
    expect(read.text).toHaveLength(MAX_FILE_BYTES);
  });

  it('refuses a file over the limit from its size alone, saying the limit', async () => {
    writeFileSync(at('big.yaml'), '');
    truncateSync(at('big.yaml'), 50 * 1024 * 1024); // sparse: nothing to read, only the size
    expect(await readUnitFile('big.yaml', at('big.yaml'))).toEqual({
      problem: { code: 'UNIT_FILE_TOO_LARGE', file: 'big.yaml', message: 'it is 52428800 bytes, more than the 1 MiB a unit file may have', hint: expect.stringMatching(/split its units/) },
    });
    writeFileSync(at('just-over.yaml'), Buffer.alloc(MAX_FILE_BYTES + 1, 0x23));
    expect((await readUnitFile('just-over.yaml', at('just-over.yaml'))).problem?.code).toBe('UNIT_FILE_TOO_LARGE');
  });

  it('refuses binary content with the position of the first bad byte', async () => {
    writeFileSync(at('elf.yaml'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00]));
    expect((await readUnitFile('elf.yaml', at('elf.yaml'))).problem).toEqual({
      code: 'UNIT_NOT_TEXT', file: 'elf.yaml', line: 1, column: 8, offset: 7, message: 'not a text file: a NUL byte at byte 7', hint: expect.stringMatching(/UTF-8/),
    });
    writeFileSync(at('latin1.yaml'), Buffer.concat([Buffer.from('kind: Image\nname: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    expect((await readUnitFile('latin1.yaml', at('latin1.yaml'))).problem).toMatchObject({ code: 'UNIT_NOT_TEXT', line: 2, column: 10, offset: 21, message: 'not a text file: the byte 0xe9, which is not UTF-8 at byte 21' });
  });

  it('names the reason a file cannot be read: gone, a link loop, a directory, a FIFO (without waiting for a writer)', async () => {
    expect((await readUnitFile('gone.yaml', at('gone.yaml'))).problem).toEqual({ code: 'UNIT_READ_FAILED', file: 'gone.yaml', message: expect.stringMatching(/disappeared .*ENOENT/), hint: expect.stringMatching(/load again/) });
    symlinkSync('loop.yaml', at('loop.yaml'));
    expect((await readUnitFile('loop.yaml', at('loop.yaml'))).problem).toEqual({ code: 'UNIT_READ_FAILED', file: 'loop.yaml', message: expect.stringMatching(/symbolic links \(ELOOP\)/), hint: expect.stringMatching(/remove it/) });
    mkdirSync(at('dir.yaml'));
    expect((await readUnitFile('dir.yaml', at('dir.yaml'))).problem).toMatchObject({ code: 'UNIT_READ_FAILED', message: 'not a regular file but a directory' });
    execFileSync('mkfifo', [at('fifo.yaml')]);
    expect((await readUnitFile('fifo.yaml', at('fifo.yaml'))).problem).toMatchObject({ code: 'UNIT_READ_FAILED', message: 'not a regular file but a FIFO' });
  });
});
