/**
 * What `validate` and crtosd refuse of remoteproc units before anything is applied, each at its
 * file, line and column with a hint: a cell naming a .cell file or a Jailhouse configuration, a
 * remoteproc processor on a Jailhouse hypervisor, two cells on one processor, firmware loads a
 * processor cannot take, rpmsg links whose peers are not [root, CELL] or that share a device.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTransaction, machineFilesUnder } from '../../../src/transaction/check.js';
import { build, errorsOf } from '../../units/helpers.js';

const HV = 'kind: Hypervisor\nname: rp\ntype: remoteproc\n';
const cell = (name: string, config: string, extra = '') => `---\nkind: Cell\nname: ${name}\nhypervisor: rp\nconfig: ${config}\n${extra}`;
const PROC = '{ processor: imx-rproc }';

async function problemsOf(units: string) {
  const files = { 'u.yaml': units };
  const r = build(files);
  expect(errorsOf(r)).toEqual([]);
  const problems = await checkTransaction({ set: r.set!, sources: new Map(Object.entries(files)), machine: machineFilesUnder(mkdtempSync(join(tmpdir(), 'crtos-rp-check-'))) });
  return problems.map((p) => ({ code: p.code, unit: p.unit, line: p.line, column: p.column, message: p.message, hint: p.hint }));
}

describe('remoteproc units refused before they are applied', () => {
  it('takes the processor mapping with its defaults', () => {
    const r = build({ 'u.yaml': HV + cell('z', PROC) });
    expect(errorsOf(r)).toEqual([]);
    expect(r.set!.units.get('z.cell')!.spec).toMatchObject({ config: { processor: 'imx-rproc', recovery: true, coredump: 'disabled', bootloader: false } });
  });

  it('a mistake inside the processor mapping is pointed at; a Jailhouse mapping keeps its own errors', () => {
    expect(errorsOf(build({ 'u.yaml': HV + cell('z', '{ processor: imx-rproc, coredump: always }') })).map((p) => [p.line, p.message])).toEqual([
      [8, "'config.coredump' must be one of 'disabled', 'enabled', 'inline', not the string 'always'"],
    ]);
    expect(errorsOf(build({ 'u.yaml': HV + cell('z', '{ name: nuttx, cpus: banana }') })).map((p) => p.message.split(':')[0])).toEqual(["'config.cpus'"]);
  });

  it('a .cell path or a Jailhouse configuration on a remoteproc hypervisor, at config', async () => {
    const problems = await problemsOf(HV + cell('a', '/etc/jailhouse/a.cell') + cell('b', '{ name: b, cpus: [1] }'));
    expect(problems.filter((p) => p.code !== 'UNIT_FILE_MISSING')).toEqual([
      expect.objectContaining({ code: 'UNIT_CELL_CONFIG', unit: 'a.cell', line: 8, column: 9, message: 'a.cell runs on rp.hypervisor (remoteproc), which runs firmware on a processor, not a .cell file (/etc/jailhouse/a.cell)', hint: expect.stringMatching(/^write config: \{ processor: NAME \}/) }),
      expect.objectContaining({ code: 'UNIT_CELL_CONFIG', unit: 'b.cell', line: 13, message: 'b.cell runs on rp.hypervisor (remoteproc), but its config is a Jailhouse cell configuration' }),
    ]);
  });

  it('a processor mapping on a Jailhouse hypervisor, at config', async () => {
    const jailhouse = 'kind: Hypervisor\nname: rp\ntype: jailhouse\nsystem: /etc/jailhouse/sys.cell\n';
    const problems = await problemsOf(jailhouse + cell('z', PROC));
    expect(problems.filter((p) => p.unit === 'z.cell')).toEqual([
      expect.objectContaining({ code: 'UNIT_CELL_CONFIG', line: 9, column: 9, message: "z.cell's config is a remoteproc configuration, but rp.hypervisor is a Jailhouse hypervisor", hint: 'run the cell on a `type: remoteproc` Hypervisor unit, or write a Jailhouse configuration' }),
    ]);
  });

  it('two cells on one processor; a string, a second image, an address, start: false', async () => {
    const images = '---\nkind: Image\nname: fw\npath: /opt/fw.elf\n';
    const load = 'load:\n  - image: fw\n  - { string: "x", address: 0x1000 }\nstart: false\n';
    const problems = await problemsOf(HV + images + cell('a', PROC) + cell('b', PROC, load));
    expect(problems.filter((p) => p.code === 'UNIT_CELL_CONFIG').map((p) => [p.unit, p.line, p.message])).toEqual([
      ['b.cell', 17, 'b.cell and a.cell both run on processor imx-rproc'],
      ['b.cell', 20, 'b.cell: a remote processor loads one firmware file, not a string'],
      ['b.cell', 21, 'b.cell: the kernel loads a remote processor\'s firmware when it starts it, so it cannot be left loaded and stopped'],
    ]);
  });

  it('an rpmsg link between two cells, or two links on one device', async () => {
    const link = (name: string, peers: string) => `---\nkind: Link\nname: ${name}\ntype: rpmsg\nhypervisor: rp\npeers: ${peers}\nservice: rpmsg-tty\ndevice: /dev/ttyRPMSG0\n`;
    const problems = await problemsOf(HV + cell('a', PROC) + cell('b', '{ processor: m7 }') + link('one', '[a, b]') + link('two', '[root, a]'));
    expect(problems.filter((p) => p.code === 'UNIT_LINK').map((p) => [p.unit, p.line, p.message])).toEqual([
      ['one.link', 19, 'one.link: an rpmsg channel is between Linux and one remote processor, but its peers are [a, b]'],
      ['two.link', 29, 'two.link and one.link both name /dev/ttyRPMSG0'],
    ]);
  });
});
