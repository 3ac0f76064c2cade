/** The completion model made from a verb table: options with their values, operands, hidden verbs. */
import { describe, expect, test } from 'vitest';
import { completionModel, spellings } from '../../../src/cli/completion/model.js';
import { VERBS } from '../../../src/cli/crtosctl.entry.js';

const TABLE = {
  frob: {
    summary: 'Frobnicate units',
    spec: {
      OPTIONS: [
        { name: 'kind', alias: 'type', short: 't', value: true, complete: 'kinds' as const, help: 'kinds' },
        { name: 'signal', value: true, complete: 'signals' as const, help: 'a signal' },
        { name: 'mode', value: true, complete: ['fast', 'slow'], help: 'how' },
        { name: 'timeout', value: true, help: 'seconds' },
        { name: 'full', help: 'this verb\'s own --full' },
      ],
      OPERANDS: 'units' as const,
    },
  },
  __secret: { summary: 'plumbing', spec: { OPTIONS: [], OPERANDS: 'none' as const }, hidden: true },
};

describe('completionModel', () => {
  const model = completionModel(TABLE, ['SIGHUP', 'SIGKILL', 'SIGTERM']);
  const frob = model.verbs[0]!;
  const opt = (name: string) => frob.options.find((o) => o.long[0] === name)!;

  test('hidden verbs are left out; operands are as the table says', () => {
    expect(model.verbs.map((v) => v.name)).toEqual(['frob']);
    expect(frob.operands).toBe('units');
  });

  test('option values: the kind registry\'s kinds in lower case, the signal names given, fixed words, free text', () => {
    expect(opt('kind').value).toEqual({ words: expect.arrayContaining(['cell', 'loader', 'driver', 'hypervisor', 'network', 'image']) });
    expect(opt('signal').value).toEqual({ words: ['SIGHUP', 'SIGKILL', 'SIGTERM'] });
    expect(opt('mode').value).toEqual({ words: ['fast', 'slow'] });
    expect(opt('timeout').value).toEqual({ free: true });
    expect(spellings(opt('kind'))).toEqual(['--kind', '--type', '-t']);
  });

  test('every verb also takes the common options; its own spec of one wins', () => {
    expect(frob.options.map((o) => o.long[0])).toEqual(['kind', 'signal', 'mode', 'timeout', 'full', 'bus', 'json', 'no-pager', 'help']);
    expect(opt('full')).toEqual({ long: ['full'], help: 'this verb\'s own --full' });
  });

  test('crtosctl\'s own table: every verb but __complete, before the verb --bus, --json, --no-pager, --help, --version', () => {
    const real = completionModel(VERBS, []);
    expect(real.verbs.map((v) => v.name)).toEqual(Object.keys(VERBS).filter((v) => v !== '__complete'));
    expect(real.globalOptions.map((o) => o.long[0])).toEqual(['bus', 'json', 'no-pager', 'help', 'version']);
  });
});
