/** crtosctl's option parsing: long and short forms, values, bundled short flags, `--`. */
import { describe, expect, test } from 'vitest';
import { parseArgs, type OptionSpec } from '../../src/cli/options.js';
import { UsageError } from '../../src/cli/context.js';

const SPECS: OptionSpec[] = [
  { name: 'all', short: 'a', help: '' },
  { name: 'quiet', short: 'q', help: '' },
  { name: 'lines', short: 'n', value: true, help: '' },
  { name: 'kind', alias: 'type', short: 't', value: true, help: '' },
];

describe('parseArgs', () => {
  test('long and short options, values inline or next, options among the operands', () => {
    const p = parseArgs(['x.cell', '--all', '-n', '5', '--type=cell', 'y.cell', '-t', 'loader'], SPECS);
    expect(p.positional).toEqual(['x.cell', 'y.cell']);
    expect([...p.flags]).toEqual(['all']);
    expect(p.values.get('lines')).toBe('5');
    expect(p.valueLists.get('kind')).toEqual(['cell', 'loader']);
  });

  test('short flags bundle as getopt takes them; a value option ends the bundle with its value', () => {
    const p = parseArgs(['-qa', '-an7'], SPECS);
    expect([...p.flags].sort()).toEqual(['all', 'quiet']);
    expect(p.values.get('lines')).toBe('7');
    expect(parseArgs(['-qn', '3'], SPECS).values.get('lines')).toBe('3');
  });

  test('an unknown letter in a bundle, a value given to a flag, a missing value: bad usage', () => {
    expect(() => parseArgs(['-qx'], SPECS)).toThrow(new UsageError("unknown option '-x'"));
    expect(() => parseArgs(['--all=yes'], SPECS)).toThrow(UsageError);
    expect(() => parseArgs(['-n'], SPECS)).toThrow(new UsageError("option '--lines' needs a value"));
  });

  test('after --, everything is an operand', () => {
    expect(parseArgs(['--', '-q', '--all'], SPECS)).toMatchObject({ positional: ['-q', '--all'], flags: new Set() });
  });
});
