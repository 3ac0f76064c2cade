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
  const code = await run({ args, stdout: out, stderr: err, env: {}, color: false, utf8: false, cwd: dir });
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
  it('show prints the description the file was built from, and how its architecture was known', async () => {
    // The 32-bit ARM fixtures say nothing arm64-only, so only --arch tells them (see test/jailhouse/arch-inference.test.ts).
    const needsArch = new Set(['orangepi0-arm-rev12.yaml', 'orangepi0-gic-demo-arm-rev12.yaml']);
    for (const name of FIXTURE_NAMES) {
      const r = await ctl('show', name.replace('.yaml', '.cell'), ...(needsArch.has(name) ? ['--arch', 'arm'] : []));
      expect(r.code).toBe('ok');
      const expected = parseConfigDescription(parse(fixtureText(name)));
      expect(expected.ok).toBe(true);
      if (!expected.ok) return;
      expect(parse(r.stdout)).toEqual(describeConfig(expected.config));
      const how = needsArch.has(name) ? '--arch' : expected.config.revision === 14 ? 'architecture byte' : 'inferred: .+';
      expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^# ${name.replace('.yaml', '.cell')}: (system|cell) configuration, revision ${expected.config.revision}, ${expected.config.arch} \\(${how}\\), \\d+ bytes$`));
    }
  });
  it('show infers the architecture of a revision-13 file, and what it prints builds the same bytes', async () => {
    const r = await ctl('show', 'zcu102-arm64-rev13.cell');
    expect(r.code).toBe('ok');
    expect(r.stdout.split('\n')[0]).toBe(
      '# zcu102-arm64-rev13.cell: system configuration, revision 13, arm64 (inferred: byte 0x14e of the platform info is 0x4 (x86 does not use 0x148..0x164 and leaves it zero); IOMMU unit 0 is ARM_MMU500 (only the arm64 hypervisor drives SMMU and PVU units)), 664 bytes',
    );
    expect(parse(r.stdout).platformInfo).toMatchObject({ arm: { gicdBase: '0xf9010000' } });
    expect(r.stdout).not.toContain('vtdInterruptLimit');
    writeFileSync(join(dir, 'zcu-shown.yaml'), r.stdout);
    expect(await ctl('build', 'zcu-shown.yaml', '-o', 'zcu-again.cell')).toMatchObject({ code: 'ok', stderr: '' });
    expect(readFileSync(join(dir, 'zcu-again.cell')).equals(readFileSync(join(dir, 'zcu102-arm64-rev13.cell')))).toBe(true);
  });
  it('show refuses a file whose architecture cannot be told, saying what to pass', async () => {
    const r = await ctl('show', 'orangepi0-arm-rev12.cell');
    expect(r.code).toBe('failed');
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^orangepi0-arm-rev12\.cell@0x0: error\[CELLCFG_ARCH_UNKNOWN\]: this revision-12 system configuration carries no architecture byte, and nothing in it tells arm from arm64/);
    expect(r.stderr).toContain('pass --arch x86|arm|arm64');
    const cell = await ctl('show', 'orangepi0-gic-demo-arm-rev12.cell');
    expect(cell.stderr).toContain('or --system SYSTEM.cell to take it from the system configuration the cell belongs to');
  });
  it('show --system reads a cell with the architecture of its system configuration, and checks their revisions', async () => {
    const r = await ctl('show', 'orangepi0-gic-demo-arm-rev12.cell', '--system', 'orangepi0-arm-rev12.cell', '--arch', 'arm');
    expect(r).toMatchObject({ code: 'ok', stderr: '' });
    expect(r.stdout.split('\n')[0]).toMatch(/^# orangepi0-gic-demo-arm-rev12\.cell: cell configuration, revision 12, arm \(from orangepi0-arm-rev12\.cell\), \d+ bytes$/);
    const inferred = await ctl('show', 'nuttx.cell', '--system', 'zcu102-arm64-rev13.cell');
    expect(inferred.code).toBe('failed');
    expect(inferred.stdout.split('\n')[0]).toMatch(/cell configuration, revision 12, arm64 \(from zcu102-arm64-rev13\.cell\)/);
    expect(inferred.stderr).toContain("nuttx.cell@0x6: error[CELLCFG_REVISION_MISMATCH]: cell 'nuttx' is revision 12, but the system configuration zcu102-arm64-rev13.cell is revision 13");
    const wrong = await ctl('show', 'nuttx.cell', '--system', 'apic-demo.cell');
    expect(wrong.code).toBe('failed');
    expect(wrong.stderr).toContain('apic-demo.cell@0x0: error[CELLCFG_WRONG_KIND]');
  });
  it('show prints a PCI device type outside 1..3 as hex, with a warning', async () => {
    const desc = parse(fixtureText('qemu-x86.yaml'));
    desc.rootCell.pciDevices[1].type = '0x9';
    writeFileSync(join(dir, 'odd-type.yaml'), JSON.stringify(desc));
    expect((await ctl('build', 'odd-type.yaml', '-o', 'odd-type.cell')).code).toBe('ok');
    const r = await ctl('show', 'odd-type.cell');
    expect(r.code).toBe('ok');
    expect(r.stdout.split('\n')[1]).toBe("# warning: root cell 'QEMU-Linux', PCI device 1 (00:1f.2): type 0x9 is not 1 (device), 2 (bridge) or 3 (ivshmem); the hypervisor treats it as a device");
    expect(parse(r.stdout).rootCell.pciDevices[1].type).toBe('0x9');
    const check = await ctl('check', 'odd-type.cell', '--json');
    expect(check.code).toBe('ok');
    expect(JSON.parse(check.stdout).problems.map((p: { code: string; severity: string }) => [p.code, p.severity])).toEqual([['CELLCFG_PCI_TYPE_UNKNOWN', 'warning']]);
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
  it('build reads a description without arch as what it says, and refuses one that does not tell', async () => {
    writeFileSync(join(dir, 'noarch-pio.yaml'), 'kind: cell\nrevision: 13\nname: x\ncpus: 1\npioRegions: [{ base: 0x2f8, length: 8 }]\n');
    const x86 = await ctl('build', 'noarch-pio.yaml', '-o', 'noarch-pio.cell', '--json');
    expect(x86.code).toBe('ok');
    expect(JSON.parse(x86.stdout)).toMatchObject({ revision: 13, arch: 'x86' });
    writeFileSync(join(dir, 'noarch.yaml'), 'kind: cell\nname: x\ncpus: 1\n');
    const r = await ctl('build', 'noarch.yaml', '-o', 'noarch.cell');
    expect(r.code).toBe('failed');
    expect(r.stderr).toContain('noarch.yaml:1:7: error[CELLCFG_ARCH_UNKNOWN]: this cell description does not write arch, and nothing in it tells x86 from arm from arm64');
    expect(r.stderr).toContain('write arch: x86|arm|arm64 in the description, or pass --arch');
    const given = await ctl('build', 'noarch.yaml', '-o', 'noarch.cell', '--arch', 'arm64', '--json');
    expect(JSON.parse(given.stdout)).toMatchObject({ revision: 14, arch: 'arm64' });
    expect(readFileSync(join(dir, 'noarch.cell'))[5]).toBe(2);
    await expect(ctl('build', 'apic-demo.yaml', '-o', 'x.cell', '--arch', 'arm')).rejects.toBeInstanceOf(UsageError);
  });
  it('build of a system description without arch takes the family from its platformInfo section', async () => {
    const desc = parse(fixtureText('qemu-arm64.yaml'));
    delete desc.arch;
    writeFileSync(join(dir, 'noarch-sys.yaml'), JSON.stringify(desc));
    expect(JSON.parse((await ctl('build', 'noarch-sys.yaml', '-o', 'noarch-sys.cell', '--json')).stdout)).toMatchObject({ arch: 'arm64' });
    desc.platformInfo.iommuUnits = [];
    desc.rootCell.streamIds = [];
    writeFileSync(join(dir, 'noarch-sys.yaml'), JSON.stringify(desc));
    const r = await ctl('build', 'noarch-sys.yaml', '-o', 'noarch-sys.cell');
    expect(r.code).toBe('failed');
    expect(r.stderr).toContain('nothing in it tells arm from arm64 (both lay the file out the same way); looked at its platformInfo section');
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
  it('infers the system\'s architecture (and the cells take it), or refuses it; --system names the system too', async () => {
    const refused = await ctl('check', 'orangepi0-arm-rev12.cell', 'orangepi0-gic-demo-arm-rev12.cell', '--json');
    expect(refused.code).toBe('failed');
    expect(JSON.parse(refused.stdout).problems.map((p: { code: string; file: string }) => [p.code, p.file])).toEqual([
      ['CELLCFG_ARCH_UNKNOWN', 'orangepi0-arm-rev12.cell'],
      ['CELLCFG_ARCH_UNKNOWN', 'orangepi0-gic-demo-arm-rev12.cell'],
    ]);
    const given = await ctl('check', '--system', 'orangepi0-arm-rev12.cell', 'orangepi0-gic-demo-arm-rev12.cell', '--arch', 'arm');
    expect(given.stdout).toBe(
      ['Architecture:  arm (revision 12)', 'Root cell:     Orange-Pi0 (orangepi0-arm-rev12.cell)', 'Non-root cell: gic-demo (orangepi0-gic-demo-arm-rev12.cell)', '2 configurations: no findings', ''].join('\n'),
    );
    const zcu = await ctl('check', 'zcu102-arm64-rev13.cell');
    expect(zcu.stdout.split('\n')[0]).toMatch(/^Architecture: {2}arm64 \(revision 13; inferred: .*ARM_MMU500/);
  });
  it('a cell given as system is a finding, not a crash', async () => {
    const r = await ctl('check', 'apic-demo.cell');
    expect(r.code).toBe('failed');
    expect(r.stdout).toContain('CELLCFG_WRONG_KIND');
  });
});

describe('the bundled crtosctl', () => {
  it('maps findings to exit 1 and a clean set to exit 0', () => {
    const bin = fileURLToPath(new URL('../../dist/crtosctl.cjs', import.meta.url));
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
