/** The cells' transaction check: configurations against the system configuration, with unit file positions. */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCells } from '../../../src/kinds/cell/check.js';
import { machineFilesUnder } from '../../../src/transaction/machine-files.js';
import { encodeExampleConfigs } from '../../../src/sim/crtos-example.js';
import { build, repoRoot } from '../../units/helpers.js';

const EXAMPLE = { revision: 12, arch: 'x86', cpus: 4, hypervisorMemory: { physStart: 0x3a000000n, size: 0x6000000n } } as const;
const HYPERVISOR = 'kind: Hypervisor\nname: jailhouse\ntype: jailhouse\nsystem: /etc/jailhouse/sysconfig.cell\n---\n';
const INLINE = readFileSync(join(repoRoot, 'units/crtos-inline/nuttx.yaml'), 'utf8').replace('wants: [crtos-link.network]\n', '');

/** A machine root holding the example's system configuration. */
function machineRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'crtos-validate-cells-'));
  mkdirSync(join(root, 'etc/jailhouse'), { recursive: true });
  writeFileSync(join(root, 'etc/jailhouse/sysconfig.cell'), encodeExampleConfigs(EXAMPLE).system);
  return root;
}

async function check(cellText: string, root: string | undefined) {
  const files = { 'nuttx.yaml': HYPERVISOR + cellText };
  const r = build(files);
  expect(r.problems.filter((p) => p.severity !== 'warning')).toEqual([]);
  const ctx = { set: r.set!, sources: new Map(Object.entries(files)), machine: root === undefined ? undefined : machineFilesUnder(root) };
  return checkCells(ctx, [...r.set!.units.values()].filter((u) => u.kind === 'Cell'));
}

/** 1-based line of the first line of `text` containing `needle`. */
const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe.concurrent('checkCells', () => {
  it('the example inline configuration fits the example machine', async () => {
    expect(await check(INLINE, machineRoot())).toEqual([]);
  });

  it('a written revision other than the system configuration\'s is reported at config.revision', async () => {
    const text = INLINE.replace('  name: nuttx\n', '  name: nuttx\n  revision: 14\n');
    const problems = await check(text, machineRoot());
    expect(problems).toEqual([
      expect.objectContaining({ code: 'UNIT_CELL_CONFIG', unit: 'nuttx.cell', file: 'nuttx.yaml', line: lineOf(HYPERVISOR + text, 'revision: 14'), column: 13 }),
    ]);
    expect(problems[0]!.message).toBe("'config.revision' is 14, but the system configuration /etc/jailhouse/sysconfig.cell is revision 12");
  });

  it('the consistency checks run against the system configuration and point at the offending field', async () => {
    const text = INLINE.replace('  cpus: 3\n', '  cpus: 0\n');
    const problems = await check(text, machineRoot());
    expect(problems).toEqual([expect.objectContaining({ code: 'CELLCFG_CPU0_GIVEN_AWAY', unit: 'nuttx.cell', file: 'nuttx.yaml', line: lineOf(HYPERVISOR + text, 'cpus: 0') })]);
    expect(problems[0]!.offset).toBeUndefined();
  });

  it('offline (no machine), the checks of the cell alone still run', async () => {
    const overlap = '    - { virtStart: 0x80000000, size: 4K, flags: [READ, WRITE, COMM_REGION] }\n';
    const text = INLINE.replace(overlap, `${overlap}    - { physStart: 0x100000800, size: 1K, flags: [READ] }\n`);
    const problems = await check(text, undefined);
    // The added region overlaps the shadow link's state table, and is not page aligned either.
    expect(problems.map((p) => [p.code, p.line])).toEqual([
      ['CELLCFG_OVERLAP_IN_CELL', lineOf(HYPERVISOR + text, '{ physStart: 0x100000000')],
      ['CELLCFG_NOT_PAGE_ALIGNED', lineOf(HYPERVISOR + text, '{ physStart: 0x100000800')],
    ]);
    expect(await check(INLINE, undefined)).toEqual([]);
  });

  it('against a machine, the system configuration must be there to judge the cells against', async () => {
    expect(await check(INLINE, join(machineRoot(), 'nowhere'))).toEqual([]); // missing: the files pass reports it
    const root = machineRoot();
    writeFileSync(join(root, 'etc/jailhouse/sysconfig.cell'), 'garbage');
    const problems = await check(INLINE, root);
    expect(problems).toEqual([expect.objectContaining({ code: 'UNIT_FILE_INVALID', unit: 'jailhouse.hypervisor', file: 'nuttx.yaml', line: 4, column: 9 })]);
    expect(problems[0]!.message).toMatch(/^\/etc\/jailhouse\/sysconfig.cell is not a Jailhouse system configuration: /);
  });
});
