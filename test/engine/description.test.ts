/** describeUnits for a Cell with an inline configuration: encoded with the system's revision, digested by its bytes. */
import { describe, expect, it } from 'vitest';
import { filesHost } from '../helpers/files-host.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeUnits, unitFileErrors } from '../../src/engine/description.js';
import { inlineConfigPath } from '../../src/kinds/cell/describe.js';
import { classifyChange } from '../../src/engine/change.js';
import { encodeExampleConfigs } from '../../src/sim/crtos-example.js';
import type { UnitDescription } from '../../src/engine/types.js';
import { build, repoRoot } from '../units/helpers.js';

const EXAMPLE = { revision: 12, arch: 'x86', cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } } as const;
const { system, nuttx } = encodeExampleConfigs(EXAMPLE);


const HYPERVISOR = 'kind: Hypervisor\nname: jailhouse\ntype: jailhouse\nsystem: /etc/jailhouse/sysconfig.cell\n---\n';
/** The inline nuttx cell of units/crtos-inline, with its Image. */
const INLINE_UNITS = readFileSync(join(repoRoot, 'units/crtos-inline/nuttx.yaml'), 'utf8').replace('wants: [crtos-link.network]\n', '');

async function describeCell(cellText: string, files: Record<string, Uint8Array> = { '/etc/jailhouse/sysconfig.cell': system }, withSources = false): Promise<UnitDescription> {
  const r = build({ 'nuttx.yaml': HYPERVISOR + cellText });
  expect(r.problems.filter((p) => p.severity !== 'warning')).toEqual([]);
  const sources = withSources ? new Map([['nuttx.yaml', HYPERVISOR + cellText]]) : undefined;
  return (await describeUnits(r.set!, filesHost(files), sources)).get('nuttx.cell')!;
}

describe('describeUnits: a Cell with an inline configuration', () => {
  it('is encoded with the system configuration revision: the same bytes as the .cell file it replaces', async () => {
    const d = await describeCell(INLINE_UNITS);
    expect(d.problem).toBeUndefined();
    expect(d.inlineConfig?.path).toBe(inlineConfigPath('nuttx'));
    expect(Buffer.from(d.inlineConfig!.bytes).equals(Buffer.from(nuttx))).toBe(true);
    expect(d.facts).toMatchObject({ cellName: 'nuttx', cpus: [3] });
  });

  it('an edit that changes no byte changes nothing; an edit of a CPU re-creates the cell', async () => {
    const before = await describeCell(INLINE_UNITS);
    // Keys reordered, the same values spelled otherwise: 4K as 0x1000, 3 as [3], VETH as 1.
    const respelled = INLINE_UNITS.replace('  name: nuttx\n  flags: [PASSIVE_COMMREG]\n  cpus: 3\n', '  cpus: [3]\n  flags: [PASSIVE_COMMREG]\n  name: nuttx\n')
      .replace('{ physStart: 0x100000000, size: 4K, flags: [READ, ROOTSHARED] }', '{ flags: [ROOTSHARED, READ], size: 0x1000, physStart: 4294967296 }')
      .replace('shmemProtocol: VETH', 'shmemProtocol: 1');
    for (const edit of ['  cpus: [3]\n', 'physStart: 4294967296', 'shmemProtocol: 1 }']) expect(respelled).toContain(edit);
    const same = await describeCell(respelled);
    expect(same.fields.config).toBe(before.fields.config);
    expect(same.digest).toBe(before.digest);

    const moved = await describeCell(INLINE_UNITS.replace('  cpus: 3\n', '  cpus: 2\n'));
    expect(moved.fields.config).not.toBe(before.fields.config);
    expect(moved.facts.cpus).toEqual([2]);
    expect(classifyChange('Cell', before.fields, moved.fields).action).toBe('recreate');
  });

  it('a written revision that is not the system configuration\'s is an error of the unit file, naming it', async () => {
    const d = await describeCell(INLINE_UNITS.replace('  name: nuttx\n', '  name: nuttx\n  revision: 14\n'));
    // Without the unit file texts it points at the unit: the line of its `kind: Cell`, after the Hypervisor's 5.
    expect(d.unitFileError).toMatchObject({ code: 'UNIT_CELL_CONFIG', unit: 'nuttx.cell', file: 'nuttx.yaml', line: 5 + INLINE_UNITS.split('\n').indexOf('kind: Cell') + 1 });
    expect(d.unitFileError!.message).toContain("'config.revision' of nuttx.cell is 14, but the system configuration /etc/jailhouse/sysconfig.cell of jailhouse.hypervisor is revision 12");
    expect(d.problem).toEqual(d.unitFileError);
    expect(d.inlineConfig).toBeUndefined();
    expect(unitFileErrors(new Map([['nuttx.cell', d]]))).toEqual([d.unitFileError]);
    // With the unit file texts, it points at the written revision.
    const located = await describeCell(INLINE_UNITS.replace('  name: nuttx\n', '  name: nuttx\n  revision: 14\n'), undefined, true);
    expect(located.unitFileError).toMatchObject({ file: 'nuttx.yaml', line: 5 + INLINE_UNITS.split('\n').indexOf('  name: nuttx') + 2, column: 13 });
    // The matching one, written out, is fine.
    expect((await describeCell(INLINE_UNITS.replace('  name: nuttx\n', '  name: nuttx\n  revision: 12\n  arch: x86\n'))).problem).toBeUndefined();
  });

  it('an unreadable system configuration leaves the cell unstartable, not the unit set invalid', async () => {
    const d = await describeCell(INLINE_UNITS, {});
    expect(d.unitFileError).toBeUndefined();
    expect(d.problem).toMatchObject({ code: 'ENGINE_CELL_CONFIG', unit: 'nuttx.cell' });
    expect(d.problem!.message).toContain('cannot read /etc/jailhouse/sysconfig.cell');
    // With revision and arch written, it needs no system configuration.
    const pinned = await describeCell(INLINE_UNITS.replace('  name: nuttx\n', '  name: nuttx\n  revision: 12\n  arch: x86\n'), {});
    expect(Buffer.from(pinned.inlineConfig!.bytes).equals(Buffer.from(nuttx))).toBe(true);
  });
});
