import { describe, expect, it } from 'vitest';
import { parseConfigDescriptionText } from '../../src/jailhouse/index.js';

describe('problems of a YAML description point at the field they are about', () => {
  it('a wrong kind: the message the document check gives, at the kind', () => {
    const r = parseConfigDescriptionText('name: x\nkind: nope\n', 'k.yaml');
    expect(r).toEqual({
      ok: false,
      problems: [{ code: 'CELLCFG_DESCRIPTION', message: 'kind must be \'system\' or \'cell\', got "nope"', hint: expect.any(String), file: 'k.yaml', line: 2, column: 7 }],
    });
  });
  it('a value deep in a list, and a missing field at its parent', () => {
    const r = parseConfigDescriptionText('kind: system\nrootCell:\n  name: r\n  memoryRegions:\n    - { size: 1Q }\n', 's.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => [p.message.split(':')[0], p.line, p.column])).toEqual([
      ['hypervisorMemory', 1, 1],
      ['rootCell.memoryRegions.0.size', 5, 15],
    ]);
  });
  it('the hint names a command that ships, not a file of the test tree', () => {
    const r = parseConfigDescriptionText('kind: cell\nname: x\ncpus: two\n', 'c.yaml');
    expect(!r.ok && r.problems[0]!.hint).toMatch(/crtosctl cell-config show --full/);
  });
});
