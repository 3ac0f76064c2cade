import { describe, expect, test } from 'vitest';
import { lastActivated, renderCriticalChain } from '../../../src/cli/analyze/critical-chain.js';
import { crtosBringUp, unit } from './fixtures.js';

describe('analyze critical-chain', () => {
  test('follows, from the unit, the dependency that became active last, down to one that waited for none', () => {
    expect(renderCriticalChain(crtosBringUp(), ['hello.loader'], { color: false })).toBe(
      [
        'hello.loader +50ms',
        '`-nuttx.cell @3.700s +2s',
        '  `-jailhouse.hypervisor @1.700s +1.500s',
        '    `-jailhouse.driver @200ms +200ms',
        '',
      ].join('\n'),
    );
  });

  test('on a terminal the units that took time are red; the tree is drawn by the locale, not by the colour', () => {
    expect(renderCriticalChain(crtosBringUp(), ['nuttx.cell'], { color: true, utf8: true })).toBe(
      [
        '\x1b[1;31mnuttx.cell +2s\x1b[0m',
        '└─\x1b[1;31mjailhouse.hypervisor @1.700s +1.500s\x1b[0m',
        '  └─\x1b[1;31mjailhouse.driver @200ms +200ms\x1b[0m',
        '',
      ].join('\n'),
    );
    expect(renderCriticalChain(crtosBringUp(), ['nuttx.cell'], { color: true, utf8: false })).toBe(
      [
        '\x1b[1;31mnuttx.cell +2s\x1b[0m',
        '`-\x1b[1;31mjailhouse.hypervisor @1.700s +1.500s\x1b[0m',
        '  `-\x1b[1;31mjailhouse.driver @200ms +200ms\x1b[0m',
        '',
      ].join('\n'),
    );
    expect(renderCriticalChain(crtosBringUp(), ['hello.loader'], { color: false, utf8: true, fuzz: 2_000_000 })).toBe(
      [
        'hello.loader +50ms',
        '├─nuttx.cell @3.700s +2s',
        '│ ├─jailhouse.hypervisor @1.700s +1.500s',
        '│ │ └─jailhouse.driver @200ms +200ms',
        '│ └─nuttx.image @60ms +50ms',
        '└─shadow.driver @1.900s +200ms',
        '  └─jailhouse.hypervisor @1.700s +1.500s',
        '    └─...',
        '',
      ].join('\n'),
    );
  });

  test('with fuzz, every dependency that became active within it is followed, branches drawn', () => {
    const units = crtosBringUp();
    const out = renderCriticalChain(units, ['hello.loader'], { color: false, fuzz: 2_000_000 });
    expect(out).toBe(
      [
        'hello.loader +50ms',
        '|-nuttx.cell @3.700s +2s',
        '| |-jailhouse.hypervisor @1.700s +1.500s',
        '| | `-jailhouse.driver @200ms +200ms',
        '| `-nuttx.image @60ms +50ms',
        '`-shadow.driver @1.900s +200ms',
        '  `-jailhouse.hypervisor @1.700s +1.500s',
        '    `-...',
        '',
      ].join('\n'),
    );
  });

  test('the unit the bring-up ended with is the default; a unit with no time is printed plain', () => {
    expect(lastActivated(crtosBringUp())).toBe('hello.loader');
    expect(lastActivated([unit('a.cell', 0, 0)])).toBeUndefined();
    const out = renderCriticalChain([unit('x.cell', 5, 10, { time: 0, after: ['y.cell'] }), unit('y.cell', 0, 0)], ['x.cell'], { color: false });
    expect(out).toBe('x.cell @5us\n');
  });
});
