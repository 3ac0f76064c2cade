/** The Loader kind's process settings: user, group and resource limits, and what a change of them needs. */
import { describe, expect, it } from 'vitest';
import { build, errorsOf } from '../../units/helpers.js';
import { classifyChange } from '../../../src/engine/change.js';
import { describeUnits } from '../../../src/engine/description.js';
import type { Host } from '../../../src/host/host.js';

const loader = (fields: string) => build({ 'l.yaml': `kind: Loader\nname: l\nexec: [/opt/loader]\n${fields}` });
const specOf = (fields: string) => loader(fields).set!.units.get('l.loader')!.spec as Record<string, unknown>;

describe('Loader user, group and limits', () => {
  it('takes names and numeric ids, as strings', () => {
    expect(specOf('user: crtos\ngroup: 100\n')).toMatchObject({ user: 'crtos', group: '100' });
    expect(specOf('user: "1000"\n')).toMatchObject({ user: '1000' });
    expect(specOf('')).not.toHaveProperty('user');
    expect(errorsOf(loader('user: "no spaces"\n'))).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_VALUE', message: expect.stringContaining('must be a user name or a numeric id') })]);
    expect(errorsOf(loader('group: -1\n'))).toHaveLength(1);
  });

  it('limits: sizes for memlock and core, counts for rtprio and nofile, infinity for any', () => {
    expect(specOf('limits: { memlock: infinity, rtprio: 99, nofile: 65536, core: 0 }\n').limits).toEqual({ memlock: 'infinity', rtprio: 99, nofile: 65536, core: 0n });
    expect(specOf('limits: { memlock: 64M, nofile: infinity }\n').limits).toEqual({ memlock: 64n << 20n, nofile: 'infinity' });
    expect(errorsOf(loader('limits: { rtprio: 100 }\n'))).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_VALUE' })]);
    expect(errorsOf(loader('limits: { memlock: lots }\n'))).toEqual([expect.objectContaining({ code: 'UNIT_INVALID_VALUE' })]);
    expect(errorsOf(loader('limits: { stack: 8M }\n'))).toEqual([expect.objectContaining({ code: 'UNIT_UNKNOWN_FIELD' })]);
  });

  it('a changed user, group or limit restarts the loader; the restart settings change nothing', async () => {
    const host = { readFile: () => Promise.reject(new Error('none')) } as unknown as Host;
    const fields = async (text: string) => {
      const set = loader(text).set!;
      return (await describeUnits(set, host)).get('l.loader')!.fields;
    };
    const base = await fields('user: a\nlimits: { memlock: 1M }\n');
    expect(classifyChange('Loader', base, await fields('user: b\nlimits: { memlock: 1M }\n'))).toMatchObject({ action: 'restart', fields: ['user'] });
    expect(classifyChange('Loader', base, await fields('user: a\ngroup: g\nlimits: { memlock: 1M }\n'))).toMatchObject({ action: 'restart', fields: ['group'] });
    expect(classifyChange('Loader', base, await fields('user: a\nlimits: { memlock: 2M }\n'))).toMatchObject({ action: 'restart', fields: ['limits'] });
    expect(classifyChange('Loader', base, await fields('user: a\nlimits: { memlock: 1M }\nrestartSec: 2s\n'))).toMatchObject({ action: 'none' });
  });
});
