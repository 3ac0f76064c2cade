import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { run } from '../../src/cli/verbs/cell-config.js';
import { UsageError, type ExitKind } from '../../src/cli/context.js';
import { FIXTURE_DIR, FIXTURE_NAMES, fixtureText } from '../jailhouse/fixtures.js';
import { describeConfig, parseConfigDescription } from '../../src/jailhouse/index.js';

let dir: string;

async function ctl(...args: string[]): Promise<{ code: ExitKind; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await run({ args, stdout: out, stderr: err, env: {}, color: false, cwd: dir });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crtos-cellcfg-'));
  for (const name of FIXTURE_NAMES) {
    copyFileSync(join(FIXTURE_DIR, name), join(dir, name));
    const r = await ctl('build', name, '-o', name.replace('.yaml', '.cell'));
    expect(r).toMatchObject({ code: 'ok', stderr: '' });
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cell-config build and show', () => {
  it('show prints the description the file was built from', async () => {
    for (const name of FIXTURE_NAMES) {
      const r = await ctl('show', name.replace('.yaml', '.cell'), ...(name.includes('arm64') ? ['--arch', 'arm64'] : []));
      expect(r.code).toBe('ok');
      const expected = parseConfigDescription(parse(fixtureText(name)));
      expect(expected.ok).toBe(true);
      if (!expected.ok) return;
      expect(parse(r.stdout)).toEqual(describeConfig(expected.config));
      expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^# ${name.replace('.yaml', '.cell')}: (system|cell) configuration, revision 1[24]`));
    }
  });
  it('show --json gives flags by name and bigints as hex; --full lists defaults too', async () => {
    const r = await ctl('show', 'apic-demo.cell', '--json');
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ kind: 'cell', name: 'apic-demo', flags: ['PASSIVE_COMMREG'], cpus: '2' });
    expect(json.memoryRegions[0]).toEqual({ physStart: '0x3a600000', virtStart: '0x0', size: '1M', flags: ['READ', 'WRITE', 'EXECUTE', 'LOADABLE'] });
    const full = JSON.parse((await ctl('show', 'apic-demo.cell', '--json', '--full')).stdout);
    expect(full).toMatchObject({ id: 0, cpuSetSize: 8, irqchips: [], pciDevices: [], msgReplyTimeout: '0', vpciIrqBase: 0 });
    expect(parseConfigDescription(full)).toMatchObject({ ok: true });
  });
  it('show of a broken file names the offset', async () => {
    writeFileSync(join(dir, 'short.cell'), readFileSync(join(dir, 'apic-demo.cell')).subarray(0, 50));
    const r = await ctl('show', 'short.cell');
    expect(r.code).toBe('failed');
    expect(r.stderr).toMatch(/^short\.cell@0x0: error\[CELLCFG_TRUNCATED\]/);
  });
  it('build reports description errors with file, line and column', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'kind: cell\nname: x\ncpus: 1\nmemoryRegions:\n  - physStart: 0x1000\n    flags: [READ, WRIT]\n');
    const r = await ctl('build', 'bad.yaml', '-o', 'bad.cell');
    expect(r.code).toBe('failed');
    expect(r.stderr).toContain("bad.yaml:6:12: error[CELLCFG_DESCRIPTION]: memoryRegions.0.flags: unknown flag 'WRIT'");
    expect(r.stderr).toContain('6 |     flags: [READ, WRIT]');
  });
  it('build without -o is a usage error', async () => {
    await expect(ctl('build', 'apic-demo.yaml')).rejects.toBeInstanceOf(UsageError);
  });
});

describe('cell-config check', () => {
  it('exits ok on a consistent set, with and without images', async () => {
    writeFileSync(join(dir, 'nuttx.bin'), new Uint8Array(4096));
    const r = await ctl('check', 'qemu-x86.cell', 'apic-demo.cell', '--image', 'apic-demo=nuttx.bin@0x0');
    expect(r.code).toBe('ok');
    expect(r.stdout).toBe(
      ['Architecture:  x86 (revision 14)', 'Root cell:     QEMU-Linux (qemu-x86.cell)', 'Non-root cell: apic-demo (apic-demo.cell)', '2 configurations and 1 image: no findings', ''].join('\n'),
    );
  });
  it('exits failed with findings naming file, cell and region', async () => {
    writeFileSync(join(dir, 'big.bin'), new Uint8Array(0x100001));
    const r = await ctl('check', 'qemu-x86.cell', 'apic-demo.cell', '--image', 'apic-demo=big.bin@0');
    expect(r.code).toBe('failed');
    expect(r.stdout).toContain("apic-demo.cell@0x8c: error[CELLCFG_IMAGE_FIT]: cell 'apic-demo', region 0: image big.bin");
    expect(r.stdout).toContain('1 error, 0 warnings');
  });
  it('the revision-12 cRTOS cell against a revision-14 system is a finding', async () => {
    const r = await ctl('check', 'qemu-x86.cell', 'nuttx.cell', '--json');
    expect(r.code).toBe('failed');
    expect(JSON.parse(r.stdout).problems.map((p: { code: string }) => p.code)).toEqual(['CELLCFG_REVISION_MISMATCH']);
  });
  it('a cell given as system is a finding, not a crash', async () => {
    const r = await ctl('check', 'apic-demo.cell');
    expect(r.code).toBe('failed');
    expect(r.stdout).toContain('CELLCFG_WRONG_KIND');
  });
});

describe('the bundled crtosctl', () => {
  it('maps findings to exit 1 and a clean set to exit 0', () => {
    const bin = fileURLToPath(new URL('../../dist/crtosctl.mjs', import.meta.url));
    expect(execFileSync(process.execPath, [bin, 'cell-config', 'check', 'qemu-arm64.cell', 'gic-demo-arm64.cell'], { cwd: dir }).toString()).toContain('no findings');
    let status = 0;
    try {
      execFileSync(process.execPath, [bin, 'cell-config', 'check', 'qemu-x86.cell', 'qemu-x86.cell'], { cwd: dir, stdio: 'pipe' });
    } catch (e) {
      status = (e as { status: number }).status;
    }
    expect(status).toBe(1);
  });
});
