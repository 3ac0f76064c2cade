import { describe, expect, it } from 'vitest';
import { expandString, machineSpecifiers, unknownSpecifiers } from '../../src/conditions/specifiers.js';
import { facts } from './facts-fixture.js';

const values = { ...machineSpecifiers(facts()), n: 'nuttx.cell', N: 'nuttx' };

describe('specifiers', () => {
  it('expand each to the machine facts and the unit', () => {
    expect(expandString('%H|%l|%m|%a|%b|%v|%n|%N', values)).toBe('rt-box-7.lab.example|rt-box-7|0123456789abcdef0123456789abcdef|arm64|fsl,imx8mp-evk|6.1.0-rt|nuttx.cell|nuttx');
    expect(expandString('/etc/jailhouse/%b.cell', values)).toBe('/etc/jailhouse/fsl,imx8mp-evk.cell');
  });

  it('%% is a literal %, and a string without % is returned as it is', () => {
    expect(expandString('100%% of %l', values)).toBe('100% of rt-box-7');
    expect(expandString('%%H', values)).toBe('%H');
    expect(expandString('plain', values)).toBe('plain');
  });

  it('finds each unknown specifier (and a lone % at the end) by the offset of its %', () => {
    expect(unknownSpecifiers('/etc/%H/%x.cell')).toEqual([8]);
    expect(unknownSpecifiers('%%x %q 50%')).toEqual([4, 9]);
    expect(unknownSpecifiers('%H%m%%')).toEqual([]);
  });
});
