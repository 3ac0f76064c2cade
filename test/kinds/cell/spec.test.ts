/** The Cell kind's `config`: a .cell path or the configuration inline, with errors at their YAML node. */
import { describe, expect, it } from 'vitest';
import { build, errorsOf } from '../../units/helpers.js';
import type { UnitOf } from '../../../src/units/types.js';

const HEAD = 'kind: Hypervisor\nname: jh\ntype: jailhouse\nsystem: /s.cell\n---\nkind: Cell\nname: c\nhypervisor: jh\n';
const cell = (config: string) => build({ 'c.yaml': HEAD + config });

describe('Cell config', () => {
  it('a path stays a path; a mapping is parsed into the configuration, revision and arch left to the hypervisor', () => {
    const path = cell('config: /etc/jailhouse/c.cell\n');
    const unit = path.set!.units.get('c.cell')!;
    expect(unit.kind === 'Cell' && (unit as UnitOf<'Cell'>).spec.config).toBe('/etc/jailhouse/c.cell');

    const inline = cell('config:\n  name: nuttx\n  cpus: 2-3\n  memoryRegions:\n    - { physStart: 0x100000000, size: 4K, flags: [READ] }\n');
    expect(errorsOf(inline)).toEqual([]);
    const spec = (inline.set!.units.get('c.cell') as UnitOf<'Cell'>).spec as unknown as { config: Record<string, unknown> };
    expect(spec.config).toMatchObject({ kind: 'cell', name: 'nuttx', cpus: [2, 3], memoryRegions: [{ physStart: 0x100000000n, virtStart: 0x100000000n, size: 4096n, flags: ['READ'] }] });
    expect('revision' in spec.config || 'arch' in spec.config).toBe(false);

    // 64-bit values written as plain YAML integers keep every bit.
    const wide = cell('config:\n  name: w\n  cpuResetAddress: 0xfffffffffffff001\n');
    expect(((wide.set!.units.get('c.cell') as UnitOf<'Cell'>).spec as unknown as { config: { cpuResetAddress: bigint } }).config.cpuResetAddress).toBe(0xfffffffffffff001n);
  });

  it('errors inside the inline configuration name the field and point at its YAML node', () => {
    const r = cell('config:\n  name: nuttx\n  cpus: banana\n  memoryRegions:\n    - { physStart: 0x1000, size: 4K, flags: [READ, WRTE] }\n  cpu: 3\n');
    expect(errorsOf(r).map((p) => [p.code, p.line, p.column, p.unit, p.message.split(':')[0]])).toEqual([
      ['UNIT_INVALID_VALUE', 11, 9, 'c.cell', "'config.cpus'"],
      ['UNIT_INVALID_VALUE', 13, 45, 'c.cell', "'config.memoryRegions[0].flags'"],
      ['UNIT_UNKNOWN_FIELD', 14, 3, 'c.cell', "unknown field 'cpu' in 'config'"],
    ]);
    expect(errorsOf(r)[2]!.hint).toBe("did you mean 'cpus'?");
    expect(errorsOf(cell('config:\n  cpus: 3\n'))).toEqual([expect.objectContaining({ code: 'UNIT_MISSING_FIELD', message: "missing field 'config.name'", line: 10, column: 3 })]);
    expect(errorsOf(cell('config:\n  name: x\n  revision: 15\n'))).toEqual([expect.objectContaining({ message: "'config.revision' must be one of '12', '13', '14', not the number 15", line: 11, column: 13 })]);
  });

  it('neither a path nor a mapping says both are possible; a relative path is still refused as one', () => {
    expect(errorsOf(cell('config: 42\n'))).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_TYPE', message: "'config' must be a string or a mapping, not the number 42" })]);
    expect(errorsOf(cell('config: nuttx.cell\n'))).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_VALUE', message: "'config' must be an absolute path (starting with /)" })]);
  });

  it('a drop-in may replace the inline configuration, and its errors point into the drop-in', () => {
    const r = build({ 'c.yaml': `${HEAD}config: /etc/jailhouse/c.cell\n`, 'c.cell.d/10-inline.yaml': 'config:\n  name: c\n  cpus: [x]\n' });
    expect(errorsOf(r)).toEqual([expect.objectContaining({ file: 'c.cell.d/10-inline.yaml', line: 3, column: 9, unit: 'c.cell' })]);
  });
});
